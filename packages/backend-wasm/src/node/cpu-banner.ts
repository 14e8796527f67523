import * as tf from '@tensorflow/tfjs-core';

/**
 * Hides TensorFlow.js's "Hi, looks like you are running TensorFlow.js in Node.js. To speed things
 * up dramatically, install our node backend ..." banner.
 *
 * Where it comes from: tfjs-backend-cpu's `MathBackendCPU.write()` prints it through
 * `backend_util.warn` the first time the cpu backend stores a tensor, when the IS_NODE flag is true
 * (guarded by the instance field `firstUse`). It is printed even when the cpu backend is only used
 * briefly, e.g. by a test that compares against it.
 *
 * The narrow fix is to mark that one backend instance as already used. Alternatives rejected:
 * `tf.enableProdMode()` (PROD) silences every tfjs warning, useful ones included; setting IS_NODE
 * false changes platform detection (fetch, file IO); filtering console.warn hides other libraries'
 * output. We tell the user which backend runs and why in one line instead.
 *
 * Initialises the cpu backend instance if it is registered but not yet created (cheap; allocates
 * nothing until used). No-op if no cpu backend is registered.
 */
export function silenceCpuBackendBanner(): void {
  if (!('cpu' in tf.engine().registryFactory)) return;
  const cpu = tf.findBackend('cpu') as (tf.KernelBackend & { firstUse?: boolean }) | null;
  if (cpu != null && 'firstUse' in cpu) cpu.firstUse = false;
}
