/**
 * Each weight's gradient as soon as the backward pass has it, not only when the whole pass ends:
 * tfjs has no autograd hooks (PyTorch DDP starts its all-reduce from them), so each trainable
 * weight is read through an identity op with a custom gradient while `f` runs, and that gradient
 * function is the hook. The identity passes its gradient through unchanged, so the weights'
 * gradients are the same tensors, bit for bit, as without taps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * Runs `f` with every weight in `weights` read through a tap. `onGradient(i, dy)` is called
 * inside the backward pass with weight i's whole gradient, for each weight the forward pass read
 * exactly once (a weight read twice gets two partial gradients that tfjs sums later: those, and
 * weights the loss does not depend on, are left to the caller's gradients map).
 */
export function withGradientTaps<T>(weights: readonly tfl.LayerVariable[], onGradient: (index: number, dy: tf.Tensor) => void, f: () => T): T {
  const reads = new Int32Array(weights.length);
  const originals = weights.map((w) => w.read);
  weights.forEach((w, i) => {
    const tap = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: tf.clone(inputs[0] as tf.Tensor),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        const g = dy as tf.Tensor;
        if (reads[i] === 1) onGradient(i, g);
        return g;
      },
    }));
    const read = originals[i];
    // An own property over the prototype's read(), removed again below.
    w.read = () => {
      reads[i]++;
      return tap(read.call(w)) as tf.Variable;
    };
  });
  try {
    return f();
  } finally {
    weights.forEach((w) => delete (w as { read?: unknown }).read);
  }
}
