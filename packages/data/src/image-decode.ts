/**
 * Decoding one PNG or JPEG file to HWC bytes at a chosen size: sharp (libvips, prebuilt from the npm
 * registry) where it loads, else jpeg-js and pngjs with a bilinear resize in JS (about 25× slower on
 * large JPEGs, but nothing native to install).
 */
import { createRequire } from 'node:module';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { GradsyncError } from '@gradsync/core';

/** One decoded image: always 3 channels (RGB); `grey` says whether every pixel has R = G = B. */
export interface DecodedImage {
  width: number;
  height: number;
  pixels: Uint8Array;
  grey: boolean;
}

export type DecoderName = 'sharp' | 'js';

/**
 * ITU-R BT.601 luma weights of R, G and B (PIL's convert('L'), libvips' b-w): how a colour image
 * becomes one channel, both when an image folder is read as greyscale and when `predict` feeds a
 * greyscale model, so a model sees the same grey at training and at prediction.
 */
export const BT601_LUMA = [0.299, 0.587, 0.114] as const;

/** What an image is resized to (fill: the aspect ratio is not kept, as Keras' image_dataset_from_directory). */
export interface TargetSize {
  height: number;
  width: number;
}

type Sharp = (typeof import('sharp'))['default'];
let sharpModule: Sharp | null | undefined;

/** sharp, or null where its prebuilt binary does not load on this machine (it is an optional dependency). */
export function loadSharp(): Sharp | null {
  if (sharpModule === undefined) {
    try {
      sharpModule = createRequire(import.meta.url)('sharp') as Sharp;
    } catch {
      sharpModule = null;
    }
  }
  return sharpModule;
}

/** Which decoder `auto` picks here. */
export function defaultDecoder(): DecoderName {
  return loadSharp() ? 'sharp' : 'js';
}

/** Decodes `bytes` (read from `file`, named in errors) to RGB at `size`, or at its own size. */
export async function decodeImageBytes(bytes: Uint8Array, file: string, decoder: DecoderName, size?: TargetSize): Promise<DecodedImage> {
  try {
    const image = decoder === 'sharp' ? await decodeWithSharp(bytes, size) : resizeBilinear(decodeWithJs(bytes), size);
    return { ...image, grey: isGrey(image.pixels) };
  } catch (e) {
    if (e instanceof GradsyncError) throw e;
    throw new GradsyncError('DATA_BAD_IMAGE', `${file}: not a readable PNG or JPEG image (${(e as Error).message})`);
  }
}

async function decodeWithSharp(bytes: Uint8Array, size?: TargetSize): Promise<Omit<DecodedImage, 'grey'>> {
  const sharp = loadSharp()!;
  let pipeline = sharp(bytes, { failOn: 'error' }).removeAlpha().toColourspace('srgb');
  if (size) pipeline = pipeline.resize(size.width, size.height, { fit: 'fill' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
  return { width: info.width, height: info.height, pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function decodeWithJs(bytes: Uint8Array): Omit<DecodedImage, 'grey'> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isPng = buffer.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const isJpeg = buffer[0] === 0xff && buffer[1] === 0xd8;
  if (!isPng && !isJpeg) throw new Error("its first bytes are neither a PNG's nor a JPEG's signature");
  const rgba = isPng ? PNG.sync.read(buffer) : jpeg.decode(buffer, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
  const { width, height } = rgba;
  const pixels = new Uint8Array(width * height * 3);
  // Alpha is dropped as sharp's removeAlpha does: the colour channels as stored.
  for (let p = 0; p < width * height; p++) {
    pixels[p * 3] = rgba.data[p * 4]!;
    pixels[p * 3 + 1] = rgba.data[p * 4 + 1]!;
    pixels[p * 3 + 2] = rgba.data[p * 4 + 2]!;
  }
  return { width, height, pixels };
}

/** Bilinear resampling with pixel centres aligned (half-pixel offsets, as libvips and PIL do). */
export function resizeBilinear(image: Omit<DecodedImage, 'grey'>, size?: TargetSize): Omit<DecodedImage, 'grey'> {
  if (!size || (size.width === image.width && size.height === image.height)) return image;
  const { width: w0, height: h0, pixels } = image;
  const out = new Uint8Array(size.width * size.height * 3);
  const sx = w0 / size.width;
  const sy = h0 / size.height;
  for (let y = 0; y < size.height; y++) {
    const fy = Math.min(h0 - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(h0 - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < size.width; x++) {
      const fx = Math.min(w0 - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(w0 - 1, x0 + 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => pixels[(yy * w0 + xx) * 3 + c]!;
        const top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx;
        const bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx;
        out[(y * size.width + x) * 3 + c] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return { width: size.width, height: size.height, pixels: out };
}

function isGrey(rgb: Uint8Array): boolean {
  for (let i = 0; i < rgb.length; i += 3) if (rgb[i] !== rgb[i + 1] || rgb[i] !== rgb[i + 2]) return false;
  return true;
}
