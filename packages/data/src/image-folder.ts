/**
 * Image folders: `DIR/train/<class>/*.png|jpg` and `DIR/test/<class>/…`, or one tree `DIR/<class>/…`
 * from which a seeded share of each class is held out as the test split. Classes are the folder
 * names sorted by code point, as torchvision's ImageFolder and Keras' image_dataset_from_directory
 * sort them, so a class's index is the same in every tool.
 */
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GradsyncError, mulberry32 } from '@gradsync/core';
import type { ImageDataset, ImageShape, ImageSplit } from './types';
import { BT601_LUMA, decodeImageBytes, type DecodedImage, type DecoderName, defaultDecoder, type TargetSize } from './image-decode';

export interface ImageFolderOptions {
  /** Resize every image once at load (fill); without it, all images must have one size. */
  imageSize?: TargetSize;
  /** Force greyscale (1) or colour (3); by default 1 when every image is grey, else 3. */
  channels?: 1 | 3;
  /** One tree only: the share of each class held out as the test split (default 0.2). */
  testFraction?: number;
  /** One tree only: which images are held out (default 0). */
  seed?: number;
  decoder?: DecoderName | 'auto';
  /** Images decoded so far of all; called after each one. */
  onProgress?: (done: number, total: number) => void;
}

/** Up to this many files are read and decoded at once (sharp decodes on libuv's threads). */
const DECODE_CONCURRENCY = 8;
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
/** Labels are stored in 16 bits at most. */
export const MAX_CLASSES = 65_536;

interface Listed {
  classNames: string[];
  train: { file: string; label: number }[];
  test: { file: string; label: number }[];
  skipped: number;
  layout: 'train/test' | 'one tree';
}

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** The images of each class folder under `dir`, sorted by name; counts the files that are not images. */
function listClasses(dir: string): { classes: Map<string, string[]>; skipped: number } {
  const classes = new Map<string, string[]>();
  let skipped = 0;
  for (const name of subfolders(dir)) {
    const files = readdirSync(path.join(dir, name), { withFileTypes: true }).filter((e) => e.isFile() && !e.name.startsWith('.'));
    const images = files.filter((e) => IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())).map((e) => path.join(dir, name, e.name));
    skipped += files.length - images.length;
    if (images.length === 0) throw new GradsyncError('DATA_EMPTY_CLASS', `${path.join(dir, name)}: the class folder "${name}" has no .png or .jpg images`);
    classes.set(name, images.sort());
  }
  if (classes.size === 0) throw new GradsyncError('DATA_NO_CLASSES', `${dir}: no class folders (expected ${dir}/<class>/*.png|jpg)`);
  return { classes, skipped };
}

/** Whether `dir` looks like an image folder: train/ and test/ of class folders, or class folders of images. */
export function isImageFolder(dir: string): boolean {
  try {
    const folders = subfolders(dir);
    if (folders.includes('train')) return true;
    return folders.length > 0 && folders.some((f) => readdirSync(path.join(dir, f)).some((n) => IMAGE_EXTENSIONS.has(path.extname(n).toLowerCase())));
  } catch {
    return false;
  }
}

/** Which files make each split, and each file's class; every check that needs no decoding. */
export function listImageFolder(dir: string, options: Pick<ImageFolderOptions, 'testFraction' | 'seed'> = {}): Listed {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new GradsyncError('DATA_NOT_FOUND', `${dir}: no such folder`);
  const top = subfolders(dir);
  if (top.includes('train')) {
    const train = listClasses(path.join(dir, 'train'));
    const classNames = [...train.classes.keys()];
    const test = top.includes('test') ? listClasses(path.join(dir, 'test')) : null;
    if (!test) throw new GradsyncError('DATA_NO_TEST', `${dir}: has train/ but no test/ folder of the same classes`);
    const unknown = [...test.classes.keys()].filter((c) => !train.classes.has(c));
    if (unknown.length > 0) {
      throw new GradsyncError(
        'DATA_UNKNOWN_CLASS',
        `${path.join(dir, 'test')}: class ${unknown.map((c) => `"${c}"`).join(', ')} is in test/ but not in train/`,
      );
    }
    checkClassCount(dir, classNames.length);
    const labelled = (classes: Map<string, string[]>) =>
      [...classes].flatMap(([name, files]) => files.map((file) => ({ file, label: classNames.indexOf(name) })));
    return { classNames, train: labelled(train.classes), test: labelled(test.classes), skipped: train.skipped + test.skipped, layout: 'train/test' };
  }
  const { testFraction = 0.2, seed = 0 } = options;
  if (!(testFraction > 0 && testFraction < 1)) throw new GradsyncError('DATA_BAD_FRACTION', `test fraction ${testFraction} must be between 0 and 1`);
  const { classes, skipped } = listClasses(dir);
  const classNames = [...classes.keys()];
  checkClassCount(dir, classNames.length);
  const train: Listed['train'] = [];
  const test: Listed['test'] = [];
  classNames.forEach((name, label) => {
    const files = classes.get(name)!;
    const held = Math.round(files.length * testFraction);
    // A seeded shuffle per class: the same files are held out on every machine and every run.
    const random = mulberry32(seed * 1_000_003 + label);
    const order = files.map((file) => ({ file, key: random() })).sort((a, b) => a.key - b.key);
    order.forEach(({ file }, i) => (i < held ? test : train).push({ file, label }));
  });
  return { classNames, train, test, skipped, layout: 'one tree' };
}

function checkClassCount(dir: string, classes: number): void {
  if (classes < 2) throw new GradsyncError('DATA_NO_CLASSES', `${dir}: ${classes} class folder; a classifier needs 2 or more`);
  if (classes > MAX_CLASSES) throw new GradsyncError('DATA_TOO_MANY_CLASSES', `${dir}: ${classes} classes; at most ${MAX_CLASSES} are supported`);
}

/**
 * Reads and decodes every image of an image folder into a data set. Pixels go straight into one
 * buffer as they are decoded (no second copy of the data set is held), train images then test.
 */
export async function readImageFolder(dir: string, options: ImageFolderOptions = {}): Promise<ImageDataset> {
  const listed = listImageFolder(dir, options);
  const decoder = !options.decoder || options.decoder === 'auto' ? defaultDecoder() : options.decoder;
  const files = [...listed.train, ...listed.test].map((e) => e.file);
  const { rgb, width, height, grey } = await decodeAll(files, decoder, options);
  const channels = options.channels ?? (grey ? 1 : 3);
  const shape: ImageShape = { height, width, channels };
  const pixels = channels === 3 ? rgb : toGrey(rgb);
  const bytes = height * width * channels;
  const labelsOf = (entries: Listed['train']) =>
    listed.classNames.length > 256 ? Uint16Array.from(entries, (e) => e.label) : Uint8Array.from(entries, (e) => e.label);
  const split = (entries: Listed['train'], offset: number): ImageSplit => ({
    images: pixels.subarray(offset * bytes, (offset + entries.length) * bytes),
    labels: labelsOf(entries),
    count: entries.length,
  });
  const train = split(listed.train, 0);
  const test = split(listed.test, listed.train.length);
  const skippedNote = listed.skipped > 0 ? `; ${listed.skipped} files that are not .png or .jpg skipped` : '';
  const resized = options.imageSize ? `, resized to ${height}×${width}` : '';
  return {
    train,
    test,
    classNames: listed.classNames,
    shape,
    source: `image folder ${dir} (${listed.layout}: ${train.count} train and ${test.count} test images, ${listed.classNames.length} classes, ${channels === 1 ? 'greyscale' : 'colour'}${resized}, decoded by ${decoder}${skippedNote})`,
  };
}

/** Decodes every file into one RGB buffer, allocated once the first image gives the size. */
async function decodeAll(
  files: string[],
  decoder: DecoderName,
  options: ImageFolderOptions,
): Promise<{ rgb: Uint8Array; width: number; height: number; grey: boolean }> {
  let size: { width: number; height: number; file: string } | null = null;
  let rgb = new Uint8Array(0);
  let grey = true;
  let next = 0;
  let done = 0;
  const place = (i: number, file: string, image: DecodedImage) => {
    if (!size) {
      size = { width: image.width, height: image.height, file };
      rgb = new Uint8Array(files.length * image.width * image.height * 3);
    } else if (image.width !== size.width || image.height !== size.height) {
      // Without --image-size every image must have one size: say which two differ.
      throw new GradsyncError(
        'DATA_MIXED_SIZES',
        `${file} is ${image.width}×${image.height} but ${size.file} is ${size.width}×${size.height}; give --image-size HxW to resize every image once at load`,
      );
    }
    rgb.set(image.pixels, i * image.pixels.length);
    grey &&= image.grey;
  };
  const work = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      place(i, file, await decodeImageBytes(await readFile(file), file, decoder, options.imageSize));
      options.onProgress?.(++done, files.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(DECODE_CONCURRENCY, files.length) }, work));
  const { width, height } = size!;
  return { rgb, width, height, grey };
}

/** RGB to one channel (BT601_LUMA), exact for grey pixels where R = G = B. */
function toGrey(rgb: Uint8Array): Uint8Array {
  const [r, g, b] = BT601_LUMA;
  const out = new Uint8Array(rgb.length / 3);
  for (let p = 0; p < out.length; p++) out[p] = Math.round(r * rgb[p * 3]! + g * rgb[p * 3 + 1]! + b * rgb[p * 3 + 2]!);
  return out;
}
