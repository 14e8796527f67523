import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackends, noteSkipWithoutAddon, probe } from './test-support/on-both';
import { loadOneDnnBinding } from './native';

noteSkipWithoutAddon('the oneDNN addon at the JS/C++ boundary (packages/backend-onednn/src/native.test.ts)');

// Bad input at the JS/C++ boundary is a thrown error naming the problem, never a crash; the
// process (this test runner) must survive every call below.
describe.skipIf(!probe.ok)('the addon checks every argument', () => {
  const b = probe.ok ? probe.binding : (null as never);
  const f = (n: number) => new Float32Array(n);
  const geometry = (x: number[], w: number[], y: number[]): [number[], number[], number[], number[], number[], number[], number[]] => [
    x,
    w,
    y,
    [1, 1],
    [1, 1],
    [0, 0],
    [0, 0],
  ];

  const cases: [string, () => unknown, RegExp][] = [
    ['a Float64Array for a float32 tensor', () => b.unary('Relu', new Float64Array(4) as never, f(4), 0), /x must be a Float32Array/],
    ['an output of the wrong length', () => b.unary('Relu', f(4), f(3), 0), /output has 3 elements, its shape needs 4/],
    ['an unknown op', () => b.unary('Explode', f(4), f(4), 0), /unknown op 'Explode'/],
    ['too few arguments', () => (b.unary as (...a: unknown[]) => void)('Relu', f(4)), /unary takes 4 arguments, got 2/],
    [
      'a conv input shorter than its shape',
      () => b.conv2d(f(10), f(27), null, f(2 * 6 * 6 * 1), ...geometry([2, 8, 8, 1], [3, 3, 1, 1], [2, 6, 6, 1]), false),
      /input has 10 elements, its shape needs 128/,
    ],
    [
      'a filter whose channels differ from the input',
      () => b.conv2d(f(128), f(18), null, f(72), ...geometry([2, 8, 8, 1], [3, 3, 2, 1], [2, 6, 6, 1]), false),
      /input channels differ/,
    ],
    [
      'an output shape that does not follow',
      () => b.conv2d(f(128), f(9), null, f(98), ...geometry([2, 8, 8, 1], [3, 3, 1, 1], [2, 7, 7, 1]), false),
      /do not follow from strides and padding/,
    ],
    [
      'a filter larger than the input',
      () => b.conv2d(f(8), f(25), null, f(1), ...geometry([2, 2, 2, 1], [5, 5, 1, 1], [2, 1, 1, 1]), false),
      /larger than the padded input/,
    ],
    [
      'a negative stride',
      () => b.conv2d(f(128), f(9), null, f(72), [2, 8, 8, 1], [3, 3, 1, 1], [2, 6, 6, 1], [-1, 1], [1, 1], [0, 0], [0, 0], false),
      /strides\[0\] must be >= 1/,
    ],
    ['a non-integer dimension', () => b.maxPool(f(8), f(2), [2, 2, 2, 1.5], [2, 1, 1, 1], [2, 2], [2, 2], [0, 0]), /must be an integer/],
    ['a shape that is not an array', () => b.tile(f(2), 'oops' as never, f(4), [4]), /x shape must be a shape/],
    ['shapes that do not broadcast', () => b.binary('Add', f(6), [2, 3], f(4), [2, 2], f(6), [2, 3]), /do not broadcast/],
    ['a comparison into a float output', () => b.binary('Greater', f(4), [4], f(4), [4], f(4), [4]), /must be a Uint8Array/],
    ['a matMul with different inner sizes', () => b.matMul(f(6), f(6), f(4), [1, 2, 3], [1, 2, 3], false, false, null, 'linear'), /inner dimensions differ/],
    ['an unsupported activation', () => b.matMul(f(6), f(6), f(4), [1, 2, 3], [1, 3, 2], false, false, null, 'gelu'), /unsupported activation 'gelu'/],
    ['a reduction whose sizes do not multiply out', () => b.reduce('Sum', f(10), f(2), 2, 3, 1), /x has 10 elements, its shape needs 6/],
    ['transforms of the wrong count', () => b.transform(f(48), f(5), f(48), [1, 4, 4, 3], 4, 4, 'bilinear', 'reflect', 0), /8 or 8 x batch/],
    ['a bad fill mode', () => b.transform(f(48), f(8), f(48), [1, 4, 4, 3], 4, 4, 'bilinear', 'mirror', 0), /unknown fill mode 'mirror'/],
    ['batch-norm x not a whole number of channel rows', () => b.batchNormTrain(f(10), f(4), f(4), f(10), f(4), f(4), 4, 1e-3), /whole rows of channels/],
    ['zero threads', () => b.setThreads(0), /threads must be in \[1, 1024\]/],
  ];
  for (const [label, call, message] of cases) {
    it(`refuses ${label}`, () => {
      expect(call).toThrow(message);
      expect(call).toThrow(/^onednn: /);
    });
  }
});

describe.skipIf(!probe.ok)('errors at the tfjs level', () => {
  it('a shape the kernel cannot take is a tfjs error, and leaks no tensor', async () => {
    await initBackends();
    await tf.setBackend('onednn');
    const before = tf.memory().numTensors;
    // tfjs computes a numeric pad's output width from the filter's height (a tfjs quirk); the
    // addon refuses the inconsistent geometry instead of reading past the input.
    const x = tf.zeros([1, 10, 9, 3]) as tf.Tensor4D;
    const filter = tf.zeros([2, 4, 3, 5]) as tf.Tensor4D;
    expect(() => tf.conv2d(x, filter, [2, 1], 1)).toThrow(/onednn: conv2d: the output's height\/width do not follow/);
    tf.dispose([x, filter]);
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
  });
});

describe('loading the addon', () => {
  it.skipIf(!probe.ok)('loads the build GRADSYNC_ONEDNN_ADDON names (the AddressSanitizer run), else build/release', () => {
    const expected = process.env.GRADSYNC_ONEDNN_ADDON ?? join('build', 'release', 'gradsync_onednn.node');
    expect(probe.ok && probe.path.endsWith(expected)).toBe(true);
  });

  it('says what to install when it was not built, quoting the build step', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onednn-'));
    writeFileSync(
      join(dir, 'status.json'),
      JSON.stringify({ ok: false, why: 'oneDNN headers (dnnl.hpp, Debian package libdnnl-dev) not found; install it with `apt-get install g++ libdnnl-dev`' }),
    );
    const result = loadOneDnnBinding(join(dir, 'gradsync_onednn.node'));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.why).toMatch(/libdnnl-dev/);
  });

  it('without any build status, names the packages and the rebuild command', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onednn-'));
    const result = loadOneDnnBinding(join(dir, 'gradsync_onednn.node'));
    expect(!result.ok && result.why).toMatch(/not built .*apt-get install g\+\+ libdnnl-dev.*build:addon/);
  });

  it('an addon built for another Node ABI is reported, not loaded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onednn-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'gradsync_onednn.node'), 'not a shared object');
    writeFileSync(join(dir, 'status.json'), JSON.stringify({ ok: true, nodeAbi: '1' }));
    const result = loadOneDnnBinding(join(dir, 'gradsync_onednn.node'));
    expect(!result.ok && result.why).toMatch(/built for another Node version \(ABI 1/);
  });

  it("a file that is not a loadable addon is reported with the loader's reason", () => {
    const dir = mkdtempSync(join(tmpdir(), 'onednn-'));
    writeFileSync(join(dir, 'gradsync_onednn.node'), 'not a shared object');
    const result = loadOneDnnBinding(join(dir, 'gradsync_onednn.node'));
    expect(!result.ok && result.why).toMatch(/^loading the oneDNN addon failed: /);
  });
});

describe('the buffer pool', () => {
  it('reuses a buffer only after the last tensor whose storage sits in it is released', async () => {
    const { BufferPool } = await import('./buffer-pool');
    const pool = new BufferPool();
    const a = pool.take(64);
    pool.retain(a); // the output tensor
    pool.retain(a); // a view of it registered by a cpu kernel (a contiguous slice)
    pool.release(a);
    expect(pool.take(64)).not.toBe(a);
    pool.release(a);
    expect(pool.pooledBytes).toBe(64);
    expect(pool.take(64)).toBe(a);
  });

  it('never reuses a buffer it did not hand out (a user array given to tf.tensor)', async () => {
    const { BufferPool } = await import('./buffer-pool');
    const pool = new BufferPool();
    const user = new ArrayBuffer(64);
    pool.retain(user);
    pool.release(user);
    expect(pool.pooledBytes).toBe(0);
    expect(pool.take(64)).not.toBe(user);
  });

  it.skipIf(!probe.ok)('what data() returns stays put when the tensor is disposed and its buffer reused', async () => {
    await initBackends();
    await tf.setBackend('onednn');
    const x = tf.relu(tf.tensor1d([1, -2, 3]));
    const read = await x.data();
    x.dispose();
    const y = tf.relu(tf.tensor1d([-7, 8, -9])); // takes the freed 12-byte buffer
    expect(Array.from(read)).toEqual([1, 0, 3]);
    expect(Array.from(await y.data())).toEqual([0, 8, 0]);
    y.dispose();
    await tf.setBackend('cpu');
  });
});
