// Test support: run one computation on the cpu backend and on onednn, compare the results.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients; tfjs-layers' bundle registers all of them.
import '@tensorflow/tfjs-layers';
import { ONEDNN_BACKEND } from '../backend';
import { noteSkip } from '@gradsync/test-skips';
import { loadOneDnnBinding, ONEDNN_REBUILD } from '../native';
import { registerOneDnnBackend } from '../kernels/register';
import { seededValues } from '@gradsync/core';

export const probe = loadOneDnnBinding();

/** Notes (for `pnpm test`'s summary) that `suite` is skipped because the addon did not load. */
export function noteSkipWithoutAddon(suite: string): void {
  if (!probe.ok) noteSkip({ suite, why: probe.why, apt: ['g++', 'libdnnl-dev'], then: ONEDNN_REBUILD });
}

/** Registers onednn (when the addon loads) and silences the cpu backend's banner. */
export async function initBackends(): Promise<void> {
  if (probe.ok) registerOneDnnBackend(probe.binding);
  await tf.setBackend('cpu');
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
}

export { seededValues as seeded };

export interface Outcome {
  shapes: number[][];
  values: Float32Array[];
  dtypes: string[];
}

export async function runOn(backend: string, compute: () => tf.Tensor | tf.Tensor[]): Promise<Outcome> {
  await tf.setBackend(backend);
  const out = tf.tidy(compute);
  const list = Array.isArray(out) ? out : [out];
  const values = await Promise.all(list.map(async (t) => Float32Array.from(await t.data())));
  const result = { shapes: list.map((t) => t.shape.slice()), values, dtypes: list.map((t) => t.dtype) };
  tf.dispose(list);
  return result;
}

/** Runs `compute` on cpu, then on onednn. */
export async function onCpuAndOneDnn(compute: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Outcome; onednn: Outcome }> {
  const cpu = await runOn('cpu', compute);
  const onednn = await runOn(ONEDNN_BACKEND, compute);
  return { cpu, onednn };
}

/** Largest |a - b| relative to max(1, largest finite |b|); equal values (NaN and infinities too) differ by 0. */
export function relativeDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!,
      y = b[i]!;
    if (Object.is(x, y) || x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    const d = Math.abs(x - y);
    max = Number.isFinite(d) ? Math.max(max, d) : Infinity;
    if (Number.isFinite(y)) scale = Math.max(scale, Math.abs(y));
  }
  return max / scale;
}
