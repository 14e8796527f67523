import * as tf from '@tensorflow/tfjs-core';
import { GradsyncError } from '@gradsync/core';
import { nodeBackendHost } from './backend-host';
import type { BackendHost } from './backend-host';
import { autoOrder, BackendUnavailable, candidateFor, gpuBackendIds, WEBGPU_REQUIREMENTS } from './backend-candidates';
import type { BackendId } from './backend-candidates';
import { silenceCpuBackendBanner } from '@gradsync/backend-wasm/node';
import { registerTrainingGradients } from '@gradsync/kernels';

export type BackendRequest = 'auto' | BackendId;
// webgpu after wasm: without a GPU it runs on a software rasteriser, far slower than wasm.
export const backendRequests: readonly BackendRequest[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'onednn', 'wasm', 'webgpu', 'cpu'];

export interface BackendOptions {
  backend: BackendRequest;
  /**
   * GPU index: sets CUDA_VISIBLE_DEVICES before tfjs-node-gpu loads; for webgpu, the index in
   * Dawn's adapter list (the error for an index out of range lists them).
   */
  gpu?: number;
  /** CPU threads per process for onednn (--threads); other backends ignore it. */
  threads?: number;
}

export interface SkippedBackend {
  backend: string;
  why: string;
}

export interface BackendSelection {
  /** tf.getBackend() after selection: 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  name: string;
  /** e.g. 'GPU 0 (CUDA)', 'GPU 0: NVIDIA H100 80GB HBM3 (WebGPU/Vulkan)', 'CPU (wasm SIMD, 1 thread)'. */
  device: string;
  /** Why this backend: what was asked for. */
  reason: string;
  /** Backends ranked above it that were not used, and why. */
  skipped: SkippedBackend[];
  /** One line for the user: which backend runs and why the better ones did not load. */
  summary: string;
  /** webgpu on a software rasteriser (Mesa's llvmpipe): the CPU emulating a GPU, slower than the cpu backend. */
  softwareRasteriser: boolean;
}

function validate(options: BackendOptions): void {
  if (!backendRequests.includes(options.backend)) {
    throw new GradsyncError('BACKEND_UNKNOWN', `unknown backend '${String(options.backend)}'; expected one of ${backendRequests.join(', ')}`);
  }
  const { gpu, threads } = options;
  if (threads != null && (!Number.isInteger(threads) || threads < 1)) {
    throw new GradsyncError('BACKEND_BAD_THREADS', `--threads must be a positive integer, got ${threads}`);
  }
  if (gpu == null) return;
  if (!Number.isInteger(gpu) || gpu < 0) {
    throw new GradsyncError('BACKEND_BAD_GPU', `--gpu must be a GPU index (0, 1, ...), got ${gpu}`);
  }
  if (options.backend !== 'auto' && !gpuBackendIds.includes(options.backend)) {
    throw new GradsyncError('BACKEND_CONFLICT', `--gpu ${gpu} needs --backend auto, tensorflow-gpu or webgpu, not '${options.backend}'`);
  }
}

function summarize(name: string, device: string, reason: string, skipped: SkippedBackend[], note?: string | null): string {
  let line = `TensorFlow.js backend ${name} on ${device}: ${reason}`;
  if (note) line += `; ${note}`;
  if (skipped.length === 0) return line;
  return `${line}; not used: ${skipped.map((s) => `${s.backend} - ${s.why}`).join('; ')}`;
}

/**
 * Chooses, loads and activates the TensorFlow.js backend.
 *
 * - `auto` without `gpu`: the first of tensorflow (tfjs-node), onednn (gradsync's addon), wasm (with gradsync's training
 *   kernels), cpu that loads; the GPU backends are not tried.
 * - `auto` with `gpu`: tfjs-node-gpu on that GPU, else webgpu on Dawn's adapter `gpu` (a real
 *   GPU, not a software rasteriser), else a GradsyncError with both reasons. Asking for a GPU
 *   never silently trains on the CPU.
 * - `tensorflow-gpu`: tfjs-node-gpu, else a GradsyncError naming CUDA 11.2 / cuDNN 8.1.
 * - any other explicit backend: that one, else a GradsyncError. Explicit `webgpu` also accepts
 *   a software adapter (Mesa's llvmpipe, for checks) and says so in the device label.
 * Native packages are loaded only after their binding file is found on disk. Also registers
 * gradients that train faster on any backend (gradients/), so call it after importing tfjs-layers.
 * `host` is replaceable for tests.
 */
export async function selectBackend(options: BackendOptions, host: BackendHost = nodeBackendHost): Promise<BackendSelection> {
  validate(options);
  const { backend, gpu } = options;
  const auto = backend === 'auto';
  const candidates = auto ? autoOrder : [candidateFor(backend)];
  const skipped: SkippedBackend[] = [];

  for (const candidate of candidates) {
    const onGpu = gpuBackendIds.includes(candidate.id);
    if (auto && onGpu && gpu == null) {
      skipped.push({ backend: candidate.id, why: 'no --gpu given' });
      continue;
    }
    // Asking for a GPU never silently trains on the CPU.
    if (auto && !onGpu && gpu != null) break;
    try {
      const {
        device,
        note,
        softwareRasteriser = false,
      } = await candidate.activate({
        gpu,
        host,
        requireHardware: auto,
        threads: options.threads,
      });
      silenceCpuBackendBanner();
      registerTrainingGradients();
      const name = tf.getBackend();
      const reason = !auto ? `requested with --backend ${backend}` : onGpu ? `--gpu ${gpu} given` : 'the best one that loaded (--backend auto)';
      return { name, device, reason, skipped, summary: summarize(name, device, reason, skipped, note), softwareRasteriser };
    } catch (err) {
      if (!(err instanceof BackendUnavailable)) throw err;
      if (backend === 'tensorflow-gpu') {
        const asked = gpu != null ? `--gpu ${gpu}` : '--backend tensorflow-gpu';
        throw new GradsyncError(
          'BACKEND_UNAVAILABLE',
          `${asked}: the GPU backend cannot run: ${err.message}. ` +
            `Not falling back to the CPU; leave out --gpu (or use --backend auto) to train on the CPU.`,
          { cause: err },
        );
      }
      if (!auto) {
        const needs = backend === 'webgpu' ? `. ${WEBGPU_REQUIREMENTS}` : '';
        throw new GradsyncError('BACKEND_UNAVAILABLE', `--backend ${backend} cannot run: ${err.message}${needs}`, {
          cause: err,
        });
      }
      skipped.push({ backend: candidate.id, why: err.message });
    }
  }
  const reasons = skipped.map((s) => `${s.backend} - ${s.why}`).join('; ');
  if (gpu != null) {
    throw new GradsyncError(
      'BACKEND_UNAVAILABLE',
      `--gpu ${gpu}: no GPU backend can run: ${reasons}. ${WEBGPU_REQUIREMENTS}. ` +
        `Not falling back to the CPU; leave out --gpu (or use --backend auto) to train on the CPU.`,
    );
  }
  throw new GradsyncError('BACKEND_UNAVAILABLE', `no TensorFlow.js backend could be loaded: ${reasons}`);
}
