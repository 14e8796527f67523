import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackends, noteSkipWithoutAddon, onCpuAndOneDnn, probe, relativeDiff, runOn, seeded } from './test-support/on-both';
import { lastRun } from './kernels/register';

// Every native kernel against the cpu backend's, on the shapes the zoo uses and on the edge
// cases (padding, strides, dilation, broadcasting patterns, odd axes). The check also asserts the
// native kernel ran (not its cpu fallback), so a kernel that silently stops taking a case fails.
noteSkipWithoutAddon('onednn kernels against the cpu backend (packages/backend-onednn/src/kernels.test.ts)');

const t4 = (shape: [number, number, number, number], seed: number) =>
  tf.tensor4d(
    seeded(
      shape.reduce((a, b) => a * b),
      seed,
    ),
    shape,
  );
const t = (shape: number[], seed: number) =>
  tf.tensor(
    seeded(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

async function expectSame(compute: () => tf.Tensor | tf.Tensor[], nativeKernels: string[], tolerance = 1e-5) {
  lastRun.clear();
  const { cpu, onednn } = await onCpuAndOneDnn(compute);
  for (const name of nativeKernels) expect(lastRun.get(name), `${name} ran natively`).toBe('onednn');
  expect(onednn.shapes).toEqual(cpu.shapes);
  expect(onednn.dtypes).toEqual(cpu.dtypes);
  onednn.values.forEach((v, i) => expect(relativeDiff(v, cpu.values[i]!)).toBeLessThanOrEqual(tolerance));
}

describe.skipIf(!probe.ok)('onednn kernels match the cpu backend', () => {
  beforeAll(initBackends);

  const convCases: [
    string,
    [number, number, number, number],
    [number, number, number, number],
    number | [number, number],
    'valid' | 'same' | number,
    number,
  ][] = [
    ['seed conv1', [4, 32, 32, 3], [3, 3, 3, 32], 1, 'valid', 1],
    ['seed conv2', [1, 30, 30, 32], [3, 3, 32, 32], 1, 'valid', 1],
    ['same padding', [2, 9, 7, 5], [3, 3, 5, 6], 1, 'same', 1],
    ['stride 2', [3, 11, 11, 4], [3, 3, 4, 8], 2, 'valid', 1],
    ['stride 2, explicit pad', [2, 10, 9, 3], [3, 3, 3, 5], 2, 1, 1],
    ['stride (2,1)', [2, 10, 9, 3], [2, 4, 3, 5], [2, 1], 'valid', 1],
    ['dilation 2', [2, 12, 12, 3], [3, 3, 3, 4], 1, 'same', 2],
    ['1x1', [2, 5, 5, 7], [1, 1, 7, 3], 1, 'valid', 1],
  ];
  for (const [label, xs, fs, strides, pad, dilation] of convCases) {
    it(`conv2d forward and both gradients: ${label}`, async () => {
      await expectSame(() => tf.conv2d(t4(xs, 1), t4(fs, 2), strides, pad, 'NHWC', dilation), ['Conv2D']);
      if (dilation !== 1) return; // tfjs has no gradient for dilated convolutions
      const kernels = ['Conv2DBackpropInput', 'Conv2DBackpropFilter'];
      await expectSame(() => {
        const x = t4(xs, 1),
          f = t4(fs, 2);
        const y = tf.conv2d(x, f, strides, pad);
        const dy = tf.tensor(seeded(y.size, 3), y.shape);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad), dy)));
        return g([x, f]);
      }, kernels);
    }, 30_000);
  }

  it('fused conv2d with bias and relu (inference) and without', async () => {
    await expectSame(
      () => tf.fused.conv2d({ x: t4([2, 10, 10, 3], 1), filter: t4([3, 3, 3, 8], 2), strides: 1, pad: 'valid', bias: t([8], 3), activation: 'relu' }),
      ['FusedConv2D'],
    );
    await expectSame(() => tf.fused.conv2d({ x: t4([2, 8, 8, 3], 1), filter: t4([3, 3, 3, 4], 2), strides: 1, pad: 'same' }), ['FusedConv2D']);
  });

  for (const [label, xs, size, strides, pad] of [
    ['2x2 / 2 (seed)', [2, 28, 28, 32], 2, 2, 'valid'],
    ['3x3 / 2 same', [2, 9, 9, 5], 3, 2, 'same'],
    ['3x3 / 1 valid', [1, 6, 7, 3], 3, 1, 'valid'],
  ] as const) {
    it(`max pool and its gradient: ${label}`, async () => {
      const shape = xs as unknown as [number, number, number, number];
      await expectSame(() => tf.maxPool(t4(shape, 4), size, strides, pad), ['MaxPool']);
      await expectSame(() => {
        const x = t4(shape, 4);
        const y = tf.maxPool(x, size, strides, pad);
        const dy = tf.tensor(seeded(y.size, 5), y.shape);
        return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, size, strides, pad), dy)))(x);
      }, ['MaxPoolGrad']);
    });
  }

  it('max pool gives the gradient to the first of equal maxima', async () => {
    await expectSame(() => {
      const x = tf.tensor4d([1, 1, 1, 1, 2, 2, 0, 2], [1, 2, 4, 1]);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid')))(x);
    }, ['MaxPoolGrad']);
  });

  it('matMul: transposes, batches, broadcast batch, fused bias + activation', async () => {
    await expectSame(() => tf.matMul(t([64, 1600], 1), t([1600, 64], 2)), ['BatchMatMul'], 1e-5);
    await expectSame(() => tf.matMul(t([5, 7], 1), t([3, 7], 2), false, true), ['BatchMatMul']);
    await expectSame(() => tf.matMul(t([7, 5], 1), t([7, 3], 2), true, false), ['BatchMatMul']);
    await expectSame(() => tf.matMul(t([4, 2, 3], 1), t([4, 3, 5], 2)), ['BatchMatMul']);
    await expectSame(() => tf.matMul(t([1, 2, 3], 1), t([4, 3, 5], 2)), ['BatchMatMul']);
    for (const activation of ['linear', 'relu', 'relu6', 'sigmoid'] as const) {
      await expectSame(() => tf.fused.matMul({ a: t([6, 9], 1), b: t([9, 4], 2), bias: t([4], 3), activation }), ['_FusedMatMul']);
    }
  });

  const binaryCases: [string, number[], number[]][] = [
    ['same shape', [2, 5, 5, 3], [2, 5, 5, 3]],
    ['channel vector', [2, 5, 5, 3], [3]],
    ['[1,1,1,C]', [2, 5, 5, 3], [1, 1, 1, 3]],
    ['scalar right', [4, 6], []],
    ['scalar left', [], [4, 6]],
    ['column', [4, 6], [4, 1]],
    ['both broadcast', [4, 1], [1, 6]],
    ['middle axis', [3, 1, 5], [3, 4, 5]],
  ];
  for (const [label, as, bs] of binaryCases) {
    it(`binary ops broadcast: ${label}`, async () => {
      for (const op of [tf.add, tf.sub, tf.mul, tf.div, tf.maximum, tf.minimum, tf.squaredDifference]) {
        await expectSame(() => op(t(as, 1), t(bs, 2)), []);
      }
      await expectSame(() => [tf.equal(t(as, 1), t(bs, 1)), tf.greater(t(as, 1), t(bs, 2)), tf.lessEqual(t(as, 1), t(bs, 2))], ['Greater', 'LessEqual']);
    });
  }

  it('unary ops, including NaN, infinities and zero', async () => {
    const special = () => tf.concat([t([200], 9), tf.tensor1d([NaN, Infinity, -Infinity, 0, -0, 1e-30])]);
    const positive = () => tf.abs(special());
    await expectSame(
      () => [tf.relu(special()), tf.relu6(tf.mul(special(), 10)), tf.step(special(), 0.3), tf.square(special()), tf.neg(special())],
      ['Relu', 'Relu6', 'Step'],
    );
    await expectSame(
      () => [tf.sqrt(positive()), tf.rsqrt(positive()), tf.log(positive()), tf.exp(special()), tf.floor(tf.mul(special(), 3))],
      ['Sqrt', 'Rsqrt', 'Log', 'Exp', 'Floor'],
    );
    await expectSame(
      () => [tf.abs(special()), tf.reciprocal(special()), tf.sigmoid(special()), tf.tanh(special())],
      ['Abs', 'Reciprocal', 'Sigmoid', 'Tanh'],
      1e-6,
    );
  });

  for (const [label, shape, axis, keepDims] of [
    ['leading axes (batch norm)', [4, 6, 6, 8], [0, 1, 2], false],
    ['last axis', [7, 10], -1, true],
    ['everything', [3, 4, 5], null, false],
    ['middle axes', [3, 4, 5, 6], [1, 2], true],
    ['large leading', [64, 30, 30, 32], [0, 1, 2], false],
  ] as const) {
    it(`reductions: ${label}`, async () => {
      const a = axis == null ? undefined : (axis as number | number[]);
      await expectSame(
        () => [
          tf.sum(t([...shape], 3), a, keepDims),
          tf.mean(t([...shape], 3), a, keepDims),
          tf.max(t([...shape], 3), a, keepDims),
          tf.min(t([...shape], 3), a, keepDims),
        ],
        ['Sum', 'Mean', 'Max', 'Min'],
        2e-6,
      );
    });
  }

  it('non-contiguous reduction axes fall back to the cpu kernel', async () => {
    lastRun.clear();
    await expectSame(() => tf.sum(t([3, 4, 5], 1), [0, 2]), []);
    expect(lastRun.get('Sum')).toBe('cpu');
  });

  it('tile', async () => {
    await expectSame(() => tf.tile(t([1, 1, 1, 32], 1), [4, 5, 5, 1]), ['Tile']);
    await expectSame(() => tf.tile(t([2, 3], 1), [3, 2]), ['Tile']);
  });

  it('batch norm (inference)', async () => {
    await expectSame(() => tf.batchNorm(t([2, 5, 5, 4], 1), t([4], 2), tf.abs(t([4], 3)), t([4], 4), t([4], 5), 1e-3), ['FusedBatchNorm']);
    await expectSame(() => tf.batchNorm(t([3, 4], 1), t([4], 2), tf.abs(t([4], 3))), ['FusedBatchNorm']);
  });

  it('transform (the augmentation)', async () => {
    // cpu's Transform handles only the first image of a batch correctly: compare one image at a time.
    for (const [interpolation, fillMode] of [
      ['bilinear', 'reflect'],
      ['nearest', 'constant'],
      ['bilinear', 'wrap'],
      ['nearest', 'nearest'],
    ] as const) {
      const zoomOut = [1.2, 0, -3.2, 0, 1.2, -3.2, 0, 0];
      const flipZoomIn = [-0.9, 0, 30.5, 0, 0.9, 1.6, 0, 0];
      for (const transform of [zoomOut, flipZoomIn]) {
        await expectSame(() => tf.image.transform(t4([1, 32, 32, 3], 6), tf.tensor2d(transform, [1, 8]), interpolation, fillMode, 0.5), ['Transform'], 1e-5);
      }
    }
  });

  it('a batch of transforms gives each image its own', async () => {
    const { onednn } = await onCpuAndOneDnn(() => {
      const image = t4([1, 8, 8, 1], 2);
      const batch = tf.concat([image, image]);
      return [
        tf.image.transform(
          batch,
          tf.tensor2d([
            [1, 0, 0, 0, 1, 0, 0, 0],
            [-1, 0, 7, 0, 1, 0, 0, 0],
          ]),
          'nearest',
          'constant',
        ),
        tf.reverse(image, 2),
      ];
    });
    const [both, flipped] = onednn.values;
    expect(both!.subarray(64)).toEqual(flipped);
  });
});

describe.skipIf(!probe.ok)('the fused training kernels', () => {
  beforeAll(initBackends);

  it("batch norm in training: output and gradients equal tfjs-layers' moments + batchNorm on cpu", async () => {
    const eps = 1e-3;
    const shape: [number, number, number, number] = [4, 6, 6, 5];
    const dy = () => t(shape, 9);
    const lossOf = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(x, mean, variance, beta, gamma, eps), dy()));
    };
    const cpu = await onCpuAndOneDnn(() => {
      const x = t4(shape, 1),
        gamma = t([5], 2),
        beta = t([5], 3);
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return [tf.batchNorm(x, mean, variance, beta, gamma, eps), mean, variance, ...tf.grads(lossOf)([x, gamma, beta])];
    });
    lastRun.clear();
    const fused = await onCpuAndOneDnn(() => {
      const x = t4(shape, 1),
        gamma = t([5], 2),
        beta = t([5], 3);
      if (tf.getBackend() === 'cpu') return [tf.zeros([1])];
      const run = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.engine().runKernel('GradsyncBatchNormTraining', { x: a, gamma: g, beta: b }, { epsilon: eps }) as tf.Tensor[];
      const [y, mean, variance] = run(x, gamma, beta);
      const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(run(a, g, b)[0]!, dy())))([x, gamma, beta]);
      return [y!, mean!, variance!, ...grads];
    });
    expect(lastRun.get('GradsyncBatchNormTrainingGrad')).toBe('onednn');
    fused.onednn.values.forEach((v, i) => expect(relativeDiff(v, cpu.cpu.values[i]!)).toBeLessThan(2e-5));
  });

  it('relu gradient in one pass equals dy * step(x)', async () => {
    const reference = await onCpuAndOneDnn(() => {
      const x = tf.concat([t([300], 1), tf.tensor1d([0, -0, NaN])]);
      const dy = t([303], 2);
      return tf.mul(dy, tf.step(x));
    });
    lastRun.clear();
    const onednn = await runOn(
      'onednn',
      () => tf.engine().runKernel('GradsyncReluGrad', { dy: t([303], 2), x: tf.concat([t([300], 1), tf.tensor1d([0, -0, NaN])]) }) as tf.Tensor,
    );
    expect(lastRun.get('GradsyncReluGrad')).toBe('onednn');
    expect(relativeDiff(onednn.values[0]!, reference.cpu.values[0]!)).toBe(0);
    expect(Number.isNaN(onednn.values[0]![302]!)).toBe(true);
  });
});

describe('the oneDNN addon', () => {
  it.runIf(process.env.CI === 'true')('is built in CI (the Debian packages are installed by .ci/run)', () => {
    expect(probe.ok ? 'built' : probe.why).toBe('built');
  });
});

describe.skipIf(!probe.ok)('the dropout kernel', () => {
  beforeAll(initBackends);
  const run = (x: tf.Tensor, rate: number, seed: number) => tf.engine().runKernel('GradsyncDropout', { x }, { rate, seed }) as tf.Tensor[];

  it('keeps each element with probability 1 - rate, scaled by 1/(1 - rate), and its gradient is dy * mask', async () => {
    const out = await runOn('onednn', () => {
      const x = t([64, 14, 14, 32], 1);
      const [y, mask] = run(x, 0.25, 42);
      const dy = t([64, 14, 14, 32], 2);
      const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(run(a, 0.25, 42)[0]!, dy)))(x);
      return [x, y!, mask!, dy, dx];
    });
    const [x, y, mask, dy, dx] = out.values as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
    const dropped = mask.filter((m) => m === 0).length / mask.length;
    expect(dropped).toBeGreaterThan(0.245);
    expect(dropped).toBeLessThan(0.255);
    expect(mask.every((m) => m === 0 || Math.abs(m - 4 / 3) < 1e-6)).toBe(true);
    for (let i = 0; i < x.length; i += 997) {
      expect(y[i]).toBe(Math.fround(x[i]! * mask[i]!));
      expect(dx[i]).toBe(Math.fround(dy[i]! * mask[i]!));
    }
  });

  it('draws the same mask for the same seed and another for another seed, whatever the thread count', async () => {
    const masks = async (seed: number) => (await runOn('onednn', () => run(t([100_000], 1), 0.5, seed)[1]!)).values[0]!;
    const first = await masks(7);
    expect(await masks(7)).toEqual(first);
    const other = await masks(8);
    expect(other.filter((m, i) => m !== first[i]).length).toBeGreaterThan(40_000);
    if (probe.ok) {
      const threads = probe.binding.getThreads();
      probe.binding.setThreads(1);
      expect(await masks(7)).toEqual(first);
      probe.binding.setThreads(threads);
    }
  });
});

describe.skipIf(!probe.ok)('the fused conv + bias + ReLU training kernel', () => {
  beforeAll(initBackends);

  for (const [label, xs, fs, strides, pad] of [
    ['seed conv2', [2, 14, 14, 8], [3, 3, 8, 6], 1, 'valid'],
    ['stride 2, same', [2, 9, 9, 3], [3, 3, 3, 4], 2, 'same'],
  ] as const) {
    it(`output and gradients equal conv2d + add + relu on cpu: ${label}`, async () => {
      const s: [number, number] = [strides, strides];
      const lossOf = (dy: tf.Tensor) => (x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, pad), b)), dy));
      const inputs = () => [t4([...xs], 1), t4([...fs], 2), t([fs[3]], 3)] as const;
      const reference = await onCpuAndOneDnn(() => {
        const [x, f, b] = inputs();
        const y = tf.relu(tf.add(tf.conv2d(x, f, s, pad), b));
        return [y, ...tf.grads(lossOf(t(y.shape, 4)))([x, f, b])];
      });
      lastRun.clear();
      const fused = await runOn('onednn', () => {
        const [x, f, b] = inputs();
        const run = (a: tf.Tensor, g: tf.Tensor, c: tf.Tensor) =>
          tf.engine().runKernel('GradsyncConv2DBiasRelu', { x: a, filter: g, bias: c }, { strides: s, pad }) as tf.Tensor;
        const y = run(x, f, b);
        const dy = t(y.shape, 4);
        return [y, ...tf.grads((a: tf.Tensor, g: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(run(a, g, c), dy)))([x, f, b])];
      });
      expect(lastRun.get('GradsyncReluGradBiasSum')).toBe('onednn');
      fused.values.forEach((v, i) => expect(relativeDiff(v, reference.cpu.values[i]!), `output ${i}`).toBeLessThan(2e-5));
    });
  }
});
