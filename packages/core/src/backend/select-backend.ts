import * as tf from '@tensorflow/tfjs-core';
import { GradsyncError } from '@gradsync/core/errors';
import { nodeBackendHost } from './backend-host';
import type { BackendHost } from './backend-host';
import { autoOrder, BackendUnavailable, candidateFor } from './backend-candidates';
import type { BackendId } from './backend-candidates';
import { silenceCpuBackendBanner } from './cpu-banner';
import { registerTrainingGradients } from './gradients/register-training-gradients';

export type BackendRequest = 'auto' | BackendId;
export const backendRequests: readonly BackendRequest[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendOptions {
  backend: BackendRequest;
  /** Physical GPU index; sets CUDA_VISIBLE_DEVICES before tfjs-node-gpu loads. */
  gpu?: number;
}

export interface SkippedBackend {
  backend: string;
  why: string;
}

export interface BackendSelection {
  /** tf.getBackend() after selection: 'tensorflow', 'wasm' or 'cpu'. */
  name: string;
  /** e.g. 'GPU 0 (CUDA)', 'CPU (wasm SIMD, 1 thread)'. */
  device: string;
  /** Why this backend: what was asked for. */
  reason: string;
  /** Backends ranked above it that were not used, and why. */
  skipped: SkippedBackend[];
  /** One line for the user: which backend runs and why the better ones did not load. */
  summary: string;
}

function validate(options: BackendOptions): void {
  if (!backendRequests.includes(options.backend)) {
    throw new GradsyncError(
      'BACKEND_UNKNOWN',
      `unknown backend '${String(options.backend)}'; expected one of ${backendRequests.join(', ')}`,
    );
  }
  const { gpu } = options;
  if (gpu == null) return;
  if (!Number.isInteger(gpu) || gpu < 0) {
    throw new GradsyncError('BACKEND_BAD_GPU', `--gpu must be a GPU index (0, 1, ...), got ${gpu}`);
  }
  if (options.backend !== 'auto' && options.backend !== 'tensorflow-gpu') {
    throw new GradsyncError(
      'BACKEND_CONFLICT',
      `--gpu ${gpu} needs --backend auto or tensorflow-gpu, not '${options.backend}'`,
    );
  }
}

function summarize(name: string, device: string, reason: string, skipped: SkippedBackend[]): string {
  const head = `TensorFlow.js backend ${name} on ${device}: ${reason}`;
  if (skipped.length === 0) return head;
  return `${head}; not used: ${skipped.map((s) => `${s.backend} - ${s.why}`).join('; ')}`;
}

/**
 * Chooses, loads and activates the TensorFlow.js backend.
 *
 * - `auto` without `gpu`: the first of tensorflow (tfjs-node), wasm (with gradsync's training
 *   kernels), cpu that loads; tensorflow-gpu is not tried.
 * - `auto` with `gpu`, or `tensorflow-gpu`: tfjs-node-gpu on that GPU, else a GradsyncError with
 *   the reason. Asking for a GPU never silently trains on the CPU.
 * - any other explicit backend: that one, else a GradsyncError.
 * Native packages are loaded only after their binding file is found on disk. Also registers
 * gradients that train faster on any backend (gradients/), so call it after importing tfjs-layers.
 * `host` is replaceable for tests.
 */
export async function selectBackend(
  options: BackendOptions,
  host: BackendHost = nodeBackendHost,
): Promise<BackendSelection> {
  validate(options);
  const { backend, gpu } = options;
  const wantsGpu = backend === 'tensorflow-gpu' || gpu != null;
  const candidates = backend === 'auto' ? autoOrder : [candidateFor(backend)];
  const skipped: SkippedBackend[] = [];

  for (const candidate of candidates) {
    if (backend === 'auto' && candidate.id === 'tensorflow-gpu' && gpu == null) {
      skipped.push({ backend: candidate.id, why: 'no --gpu given' });
      continue;
    }
    try {
      const { device } = await candidate.activate({ gpu, host });
      silenceCpuBackendBanner();
      registerTrainingGradients();
      const name = tf.getBackend();
      const reason =
        backend !== 'auto'
          ? `requested with --backend ${backend}`
          : candidate.id === 'tensorflow-gpu'
            ? `--gpu ${gpu} given`
            : 'the best one that loaded (--backend auto)';
      return { name, device, reason, skipped, summary: summarize(name, device, reason, skipped) };
    } catch (err) {
      if (!(err instanceof BackendUnavailable)) throw err;
      if (wantsGpu && candidate.id === 'tensorflow-gpu') {
        const asked = gpu != null ? `--gpu ${gpu}` : '--backend tensorflow-gpu';
        throw new GradsyncError(
          'BACKEND_UNAVAILABLE',
          `${asked}: the GPU backend cannot run: ${err.message}. ` +
            `Not falling back to the CPU; leave out --gpu (or use --backend auto) to train on the CPU.`,
          { cause: err },
        );
      }
      if (backend !== 'auto') {
        throw new GradsyncError('BACKEND_UNAVAILABLE', `--backend ${backend} cannot run: ${err.message}`, {
          cause: err,
        });
      }
      skipped.push({ backend: candidate.id, why: err.message });
    }
  }
  throw new GradsyncError(
    'BACKEND_UNAVAILABLE',
    `no TensorFlow.js backend could be loaded: ${skipped.map((s) => `${s.backend} - ${s.why}`).join('; ')}`,
  );
}
