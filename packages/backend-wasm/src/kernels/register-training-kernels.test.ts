import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { configureWasmBackend } from '../node/wasm-setup';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels, wasmTrainingKernels } from './register-training-kernels';

describe('registerWasmTrainingKernels', () => {
  afterAll(() => unregisterWasmTrainingKernels());

  it('replaces wasm kernels after the backend is initialised, idempotently, and restores them', async () => {
    await configureWasmBackend();
    expect(await tf.setBackend('wasm')).toBe(true);
    const originalInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();

    const names = registerWasmTrainingKernels();
    expect(names).toEqual(wasmTrainingKernels.map((k) => k.kernelName));
    const ours = tf.getKernel('Conv2DBackpropInput', 'wasm');
    expect(ours).not.toBe(originalInput);
    expect(registerWasmTrainingKernels()).toEqual(names);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBe(ours);

    // The stride-2 fallback reaches wasm's original kernel, whose setup ran at initialisation.
    const dx = tf.tidy(() =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy: tf.ones([1, 2, 2, 1]), filter: tf.ones([2, 2, 1, 1]) },
          { strides: 2, pad: 'valid', dataFormat: 'NHWC', inputShape: [1, 4, 4, 1] },
        ),
    ) as tf.Tensor;
    expect(Array.from(dx.dataSync())).toEqual(new Array(16).fill(1));
    dx.dispose();

    unregisterWasmTrainingKernels();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBe(originalInput);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
  });

  it('registers a subset by name', () => {
    expect(registerWasmTrainingKernels(['Tile'])).toEqual(['Tile']);
    unregisterWasmTrainingKernels();
  });
});
