import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import type { GradConfig } from '@tensorflow/tfjs-core';
import { meanGradConfig, sumGradConfig } from './reduction-grads';
import { reluGradConfig } from './relu-grad';

/**
 * Gradients this project replaces for training speed: same values as tfjs's, less work. Unlike
 * kernels, gradients are not per backend, so these apply whichever backend runs.
 */
export const trainingGradients: readonly GradConfig[] = [sumGradConfig, meanGradConfig, reluGradConfig];

const replaced = new Map<string, GradConfig | undefined>();

/**
 * Registers the gradients above, idempotently, remembering the ones they replace.
 * Call it after tfjs-layers is imported: its bundle registers all of tfjs's gradients when it
 * loads, which would put the originals back (harmless, only slower).
 */
export function registerTrainingGradients(): void {
  for (const config of trainingGradients) {
    const current = getGradient(config.kernelName);
    if (current === config) continue;
    if (!replaced.has(config.kernelName)) replaced.set(config.kernelName, current);
    registerGradient(config);
  }
}

/** Puts the replaced gradients back (for measurements and tests). */
export function unregisterTrainingGradients(): void {
  for (const original of replaced.values()) {
    if (original != null) registerGradient(original);
  }
  replaced.clear();
}
