import { createSha256 } from '@gradsync/core';
import type { Cifar10 } from '@gradsync/data/browser';
import { splitChecksum } from '@gradsync/data/browser';

/** The checksum a worker compares after receiving the data set: both splits, labels and pixels. */
export function datasetChecksum(data: Pick<Cifar10, 'train' | 'test'>): string {
  return createSha256()
    .update(`${splitChecksum(data.train)}:${splitChecksum(data.test)}`)
    .hex();
}

/**
 * What a worker with its own copy (--data-dir) sends in its hello: the pixels' and labels'
 * checksum with the class names and image shape, so the coordinator skips the upload only for
 * the very data set it would send (renamed class folders with the same bytes are another one).
 */
export function datasetIdentity(data: { checksum: string; classNames: readonly string[]; shape: { height: number; width: number; channels: number } }): string {
  return createSha256()
    .update(`${data.checksum}:${data.shape.height}x${data.shape.width}x${data.shape.channels}:${JSON.stringify(data.classNames)}`)
    .hex();
}
