import { createHash } from 'node:crypto';
import type { Cifar10 } from '../data/index';
import { splitChecksum } from '../data/index';

/** The checksum a worker compares after receiving the data set: both splits, labels and pixels. */
export function datasetChecksum(data: Pick<Cifar10, 'train' | 'test'>): string {
  return createHash('sha256')
    .update(`${splitChecksum(data.train)}:${splitChecksum(data.test)}`)
    .digest('hex');
}
