import { uniformFor } from '../random/index';

/** Per-sample augmentation, drawn from (run seed, epoch, sample index) alone. */
export interface AugmentParams {
  flip: boolean;
  /** Keras RandomZoom factor applied to sampling coordinates: > 1 zooms out, < 1 zooms in. */
  zoom: number;
}

export interface AugmentConfig {
  /** Random horizontal flip with probability 1/2 (Keras RandomFlip("horizontal")). */
  flip: boolean;
  /** Keras RandomZoom(height_factor = zoomRange): zoom in or out by up to this fraction, aspect kept. */
  zoomRange: number;
}

export const SEED_AUGMENT: AugmentConfig = { flip: true, zoomRange: 0.1 };

// Distinct stream ids so flip and zoom draws are independent.
const FLIP_STREAM = 1;
const ZOOM_STREAM = 2;

export function augmentParamsFor(config: AugmentConfig, runSeed: number, epoch: number, sampleIndex: number): AugmentParams {
  const flip = config.flip && uniformFor(runSeed, epoch, sampleIndex, FLIP_STREAM) < 0.5;
  const u = uniformFor(runSeed, epoch, sampleIndex, ZOOM_STREAM);
  const zoom = 1 + config.zoomRange * (2 * u - 1);
  return { flip, zoom };
}

/**
 * The projective transform (tf.image.transform's 8 numbers) mapping an output pixel to the
 * input point it samples: zoom about the image centre (Keras get_zoom_matrix), then mirror x.
 */
export function transformFor(params: AugmentParams, height: number, width: number): number[] {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const z = params.zoom;
  const xOffset = cx * (1 - z);
  const yOffset = cy * (1 - z);
  const a0 = params.flip ? -z : z;
  const a2 = params.flip ? width - 1 - xOffset : xOffset;
  return [a0, 0, a2, 0, z, yOffset, 0, 0];
}
