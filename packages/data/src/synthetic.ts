/**
 * A synthetic data set in CIFAR-10's shape for tests: each class is a coloured square with
 * stripes at a class-specific angle, at a jittered position and size, on a random background,
 * with per-pixel noise. A small CNN separates the classes within a few dozen steps, but no single
 * pixel gives the class away. Deterministic for a seed; image i of a split depends only on
 * (seed, split, i), so growing a split keeps its first images.
 */
import { GradsyncError, mixKeys, mulberry32 } from '@gradsync/core';
import { CIFAR10_CLASS_NAMES, IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_SIDE, NUM_CLASSES, type Cifar10, type CifarSplit, CIFAR_SHAPE } from './types';

export interface SyntheticOptions {
  train: number;
  test: number;
  seed: number;
  /** Amplitude of the uniform per-pixel noise, as a fraction of 255 (0..1); default 0.15. */
  noise?: number;
}

/** Key that separates the generator's random stream from other uses of the same seed. */
const SYNTHETIC_STREAM = 0x5359_4e54; // "SYNT"
const SPLIT_TRAIN = 1;
const SPLIT_TEST = 2;

/** One saturated colour per class (RGB), far apart so the square's colour is a strong cue. */
const CLASS_COLORS: readonly (readonly [number, number, number])[] = [
  [230, 40, 40],
  [40, 200, 60],
  [50, 80, 235],
  [235, 220, 50],
  [220, 60, 220],
  [50, 215, 225],
  [245, 140, 30],
  [130, 60, 200],
  [240, 240, 240],
  [120, 90, 40],
];
const STRIPE_PERIOD = 6;

export function makeSyntheticCifar10(options: SyntheticOptions): Cifar10 {
  const { train, test, seed } = options;
  const noise = options.noise ?? 0.15;
  for (const [name, value] of [
    ['train', train],
    ['test', test],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new GradsyncError('DATA_BAD_ARGUMENT', `synthetic ${name} size must be a non-negative integer, got ${value}`);
    }
  }
  if (!Number.isInteger(seed)) {
    throw new GradsyncError('DATA_BAD_ARGUMENT', `synthetic seed must be an integer, got ${seed}`);
  }
  if (!(noise >= 0 && noise <= 1)) {
    throw new GradsyncError('DATA_BAD_ARGUMENT', `synthetic noise must be in 0..1, got ${noise}`);
  }
  return {
    train: makeSplit(train, seed, SPLIT_TRAIN, noise),
    test: makeSplit(test, seed, SPLIT_TEST, noise),
    shape: { ...CIFAR_SHAPE },
    classNames: [...CIFAR10_CLASS_NAMES],
    source: `synthetic (seed ${seed}, ${train} train / ${test} test images, noise ${noise})`,
  };
}

function makeSplit(count: number, seed: number, splitKey: number, noise: number): CifarSplit {
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const random = mulberry32(mixKeys(SYNTHETIC_STREAM, seed, splitKey, i));
    const label = Math.floor(random() * NUM_CLASSES);
    labels[i] = label;
    renderImage(images, i * IMAGE_BYTES, label, random, noise);
  }
  return { images, labels, count };
}

function renderImage(out: Uint8Array, offset: number, label: number, random: () => number, noise: number): void {
  const color = CLASS_COLORS[label];
  const gray = 50 + random() * 90;
  const background = [0, 1, 2].map(() => gray + (random() - 0.5) * 50);
  const brightness = 0.75 + random() * 0.35;
  const half = 6 + random() * 4; // square side 12..20 px
  const cx = IMAGE_SIDE / 2 + (random() * 2 - 1) * 5;
  const cy = IMAGE_SIDE / 2 + (random() * 2 - 1) * 5;
  const angle = (label * Math.PI) / NUM_CLASSES + (random() - 0.5) * 0.12;
  const phase = random() * 2 * Math.PI;
  const ux = Math.cos(angle);
  const uy = Math.sin(angle);
  const amplitude = noise * 255;
  let o = offset;
  for (let y = 0; y < IMAGE_SIDE; y++) {
    for (let x = 0; x < IMAGE_SIDE; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const inside = Math.abs(dx) <= half && Math.abs(dy) <= half;
      const stripe = inside && Math.sin((2 * Math.PI * (dx * ux + dy * uy)) / STRIPE_PERIOD + phase) > 0 ? 1 : 0.4;
      for (let c = 0; c < IMAGE_CHANNELS; c++) {
        const base = inside ? color[c] * brightness * stripe : background[c];
        const value = base + (random() * 2 - 1) * amplitude;
        out[o++] = value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
      }
    }
  }
}
