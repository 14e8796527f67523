import { uniformFor } from '@gradsync/core';

/** Per-sample augmentation, drawn from (run seed, epoch, sample index) alone. */
export interface AugmentParams {
  flip: boolean;
  /** Keras RandomZoom factor applied to sampling coordinates: > 1 zooms out, < 1 zooms in. */
  zoom: number;
  /**
   * Random crop of the image padded by `cropPadding` on every side, as a whole-pixel shift of the
   * sampling point: the crop at offset (p + shiftX, p + shiftY) of the padded image. 0 = centred.
   */
  shiftX: number;
  shiftY: number;
}

export interface AugmentConfig {
  /** Random horizontal flip with probability 1/2 (Keras RandomFlip("horizontal")). */
  flip: boolean;
  /**
   * airbench's alternating flip: each image's flip is drawn once (epoch 0's draw) and then inverted
   * every other epoch, so over any two epochs in a row the network sees each image both ways, where
   * random flips show half the images the same way twice. Needs `flip`. Runs saved before it read as false.
   */
  alternatingFlip?: boolean;
  /** Keras RandomZoom(height_factor = zoomRange): zoom in or out by up to this fraction, aspect kept. */
  zoomRange: number;
  /**
   * Random crop after padding by this many pixels on every side (torchvision's
   * RandomCrop(32, padding=4) with 4); the padding mirrors the image (reflect fill, as airbench pads). 0 = no crop.
   */
  cropPadding: number;
}

/** The tutorial's: flip and ±10% zoom. */
export const SEED_AUGMENT: AugmentConfig = { flip: true, zoomRange: 0.1, cropPadding: 0 };
/** The usual CIFAR-10 augmentation since ResNet: flip and a random 32×32 crop of the image padded by 4. */
export const CROP_FLIP_AUGMENT: AugmentConfig = { flip: true, zoomRange: 0, cropPadding: 4 };
/** airbench94's: alternating flip and a random crop of the image padded by 2 (its `translate=2`), milder for short runs. */
export const AIRBENCH_AUGMENT: AugmentConfig = { flip: true, alternatingFlip: true, zoomRange: 0, cropPadding: 2 };
export const NO_AUGMENT: AugmentConfig = { flip: false, zoomRange: 0, cropPadding: 0 };

/** The named augmentations `--augment` takes. */
export const AUGMENT_KINDS = { 'flip-zoom': SEED_AUGMENT, 'flip-crop': CROP_FLIP_AUGMENT, airbench: AIRBENCH_AUGMENT, none: NO_AUGMENT } as const;
export type AugmentKind = keyof typeof AUGMENT_KINDS;
export const AUGMENT_KIND_NAMES = Object.keys(AUGMENT_KINDS) as AugmentKind[];

// Distinct stream ids so the draws are independent of one another.
const FLIP_STREAM = 1;
const ZOOM_STREAM = 2;
const CROP_X_STREAM = 3;
const CROP_Y_STREAM = 4;

/** A whole number uniform in [-padding, padding] from one uniform draw in [0, 1). */
export function cropShift(padding: number, u: number): number {
  return Math.floor(u * (2 * padding + 1)) - padding;
}

function flipFor(alternating: boolean, runSeed: number, epoch: number, sampleIndex: number): boolean {
  if (!alternating) return uniformFor(runSeed, epoch, sampleIndex, FLIP_STREAM) < 0.5;
  const firstDraw = uniformFor(runSeed, 0, sampleIndex, FLIP_STREAM) < 0.5;
  return epoch % 2 === 0 ? firstDraw : !firstDraw;
}

export function augmentParamsFor(config: AugmentConfig, runSeed: number, epoch: number, sampleIndex: number): AugmentParams {
  const flip = config.flip && flipFor(config.alternatingFlip ?? false, runSeed, epoch, sampleIndex);
  const u = uniformFor(runSeed, epoch, sampleIndex, ZOOM_STREAM);
  const zoom = 1 + config.zoomRange * (2 * u - 1);
  const pad = config.cropPadding;
  const shiftX = pad > 0 ? cropShift(pad, uniformFor(runSeed, epoch, sampleIndex, CROP_X_STREAM)) : 0;
  const shiftY = pad > 0 ? cropShift(pad, uniformFor(runSeed, epoch, sampleIndex, CROP_Y_STREAM)) : 0;
  return { flip, zoom, shiftX, shiftY };
}

/**
 * The projective transform (tf.image.transform's 8 numbers) mapping an output pixel to the
 * input point it samples: zoom about the image centre (Keras get_zoom_matrix), mirror x, then
 * shift by the crop offset. Whole-pixel shifts sample pixel centres, so a crop copies pixels exactly.
 */
export function transformFor(params: AugmentParams, height: number, width: number): number[] {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const z = params.zoom;
  const xOffset = cx * (1 - z);
  const yOffset = cy * (1 - z);
  const a0 = params.flip ? -z : z;
  const a2 = (params.flip ? width - 1 - xOffset : xOffset) + params.shiftX;
  return [a0, 0, a2, 0, z, yOffset + params.shiftY, 0, 0];
}
