import * as tf from '@tensorflow/tfjs-core';
// Its bundle registers tfjs's gradient functions, which tf.grad needs.
import '@tensorflow/tfjs-layers';
import { maxAbsDiff, seededValues } from '@gradsync/backend-wasm/node';

/**
 * The kernels a seed-cnn training step spends its time in, at the seed CNN's own shapes, run on
 * two backends and compared: a GPU backend against wasm (the reference the training test uses).
 */
export interface KernelCase {
  name: string;
  /** Runs inside tf.tidy on the active backend; returns the output to compare. */
  compute: () => tf.Tensor;
}

const t = (shape: number[], seed: number) =>
  tf.tensor(
    seededValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

/** Shapes of seed-cnn's second convolution block (batch `n`) and its first dense layer. */
export function kernelCases(n = 8): KernelCase[] {
  const conv = () => ({ x: t([n, 15, 15, 32], 1), f: t([3, 3, 32, 64], 2), dy: t([n, 13, 13, 64], 3) });
  const convGrads = () => {
    const { x, f, dy } = conv();
    return tf.grads((xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 1, 'valid'), dy)))([x, f]);
  };
  return [
    {
      name: 'conv2d 3x3 (forward)',
      compute: () => {
        const { x, f } = conv();
        return tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid');
      },
    },
    { name: 'conv2d input gradient (Conv2DBackpropInput)', compute: () => convGrads()[0]! },
    { name: 'conv2d filter gradient (Conv2DBackpropFilter)', compute: () => convGrads()[1]! },
    { name: 'matMul 2304x64 (dense forward)', compute: () => tf.matMul(t([n, 2304], 4) as tf.Tensor2D, t([2304, 64], 5) as tf.Tensor2D) },
    {
      name: 'maxPool 2x2 gradient (MaxPoolGrad)',
      compute: () => {
        const x = t([n, 30, 30, 32], 6);
        const dy = t([n, 15, 15, 32], 7);
        return tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(xx as tf.Tensor4D, 2, 2, 'valid'), dy)))(x);
      },
    },
  ];
}

export interface KernelComparison {
  name: string;
  maxAbsDiff: number;
  /** maxAbsDiff over the largest |value| of the reference. */
  relativeDiff: number;
  ok: boolean;
}

function largestMagnitude(values: Float32Array): number {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  return max;
}

async function run(backend: string, c: KernelCase): Promise<Float32Array> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
  const out = tf.tidy(c.compute);
  const values = Float32Array.from((await out.data()) as Float32Array);
  out.dispose();
  return values;
}

/** Each case on `backend` and on `reference` (both already registered); leaves `backend` active. */
export async function compareKernels(backend: string, reference: string, cases: KernelCase[], tolerance = 1e-3): Promise<KernelComparison[]> {
  const out: KernelComparison[] = [];
  for (const c of cases) {
    const got = await run(backend, c);
    const want = await run(reference, c);
    const diff = maxAbsDiff(got, want);
    const scale = Math.max(1e-12, largestMagnitude(want));
    out.push({ name: c.name, maxAbsDiff: diff, relativeDiff: diff / scale, ok: diff / scale <= tolerance });
  }
  await tf.setBackend(backend);
  return out;
}
