import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { GradsyncError } from '@gradsync/core';

export interface RgbImage {
  width: number;
  height: number;
  /** width × height × 3 bytes, row-major. */
  rgb: Uint8Array;
}

function dropAlpha(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return rgb;
}

/** Decodes a PNG or JPEG file (told apart by their signatures, not the file name). */
export async function decodeImageFile(file: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GradsyncError('E_IMAGE', `cannot read image ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47) {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgb: dropAlpha(png.data, png.width, png.height) };
    }
    if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, rgb: dropAlpha(img.data, img.width, img.height) };
    }
  } catch (err) {
    throw new GradsyncError('E_IMAGE', `cannot decode image ${file}: ${(err as Error).message}`);
  }
  throw new GradsyncError('E_IMAGE', `${file} is neither a PNG nor a JPEG file`);
}

/**
 * Resizes to the model's height × width floats in [0, 1]: halves with 2×2 averaging while the image
 * is at least twice the target (so large photos are not aliased), then bilinear; one channel (BT.601
 * luma, as the image-folder reader makes it) for a greyscale model.
 */
export function toModelInput(image: RgbImage, [height, width, channels]: readonly [number, number, number] = [32, 32, 3]): tf.Tensor4D {
  return tf.tidy(() => {
    let x = tf.div(tf.cast(tf.tensor4d(image.rgb, [1, image.height, image.width, 3], 'int32'), 'float32'), 255) as tf.Tensor4D;
    while (x.shape[1] >= 2 * height && x.shape[2] >= 2 * width) x = tf.avgPool(x, 2, 2, 'valid');
    const resized = tf.image.resizeBilinear(x, [height, width], false, true);
    return channels === 1 ? (tf.sum(tf.mul(resized, tf.tensor1d([0.299, 0.587, 0.114])), 3, true) as tf.Tensor4D) : resized;
  });
}
