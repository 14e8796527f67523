import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@gradsync/backends';
import { compareKernels, kernelCases } from './kernel-checks';

describe('compareKernels', () => {
  it('runs every case on both backends and reports agreement (wasm against cpu here)', { timeout: 60_000 }, async () => {
    await selectBackend({ backend: 'cpu' });
    await selectBackend({ backend: 'wasm' });
    const checks = await compareKernels('wasm', 'cpu', kernelCases(1));
    expect(checks.map((c) => c.name)).toEqual([
      'conv2d 3x3 (forward)',
      'conv2d input gradient (Conv2DBackpropInput)',
      'conv2d filter gradient (Conv2DBackpropFilter)',
      'matMul 2304x64 (dense forward)',
      'maxPool 2x2 gradient (MaxPoolGrad)',
    ]);
    for (const c of checks) expect(c, c.name).toMatchObject({ ok: true });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('flags a kernel that disagrees', async () => {
    const wrong = [{ name: 'differs by backend', compute: () => tf.scalar(tf.getBackend() === 'wasm' ? 1 : 2) }];
    const [check] = await compareKernels('wasm', 'cpu', wrong);
    expect(check).toMatchObject({ ok: false, maxAbsDiff: 1, relativeDiff: 0.5 });
  });
});
