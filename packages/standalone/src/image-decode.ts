import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { GradsyncError } from '@gradsync/core';
import { BT601_LUMA, decodeImageBytes, defaultDecoder } from '@gradsync/data';

export interface RgbImage {
  width: number;
  height: number;
  /** width × height × 3 bytes, row-major. */
  rgb: Uint8Array;
}

/** Decodes a PNG or JPEG file at its own size with the data sets' decoder (sharp where it loads). */
export async function decodeImageFile(file: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GradsyncError('E_IMAGE', `cannot read image ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const image = await decodeImageBytes(bytes, file, defaultDecoder());
  return { width: image.width, height: image.height, rgb: image.pixels };
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
    return channels === 1 ? (tf.sum(tf.mul(resized, tf.tensor1d([...BT601_LUMA])), 3, true) as tf.Tensor4D) : resized;
  });
}
