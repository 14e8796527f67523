import { createSha256 } from '@gradsync/core';
import type { Cifar10 } from '@gradsync/data/browser';
import { splitChecksum } from '@gradsync/data/browser';

/** The checksum a worker compares after receiving the data set: both splits, labels and pixels. */
export function datasetChecksum(data: Pick<Cifar10, 'train' | 'test'>): string {
  return createSha256()
    .update(`${splitChecksum(data.train)}:${splitChecksum(data.test)}`)
    .hex();
}
