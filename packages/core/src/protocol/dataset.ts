import { createSha256 } from '#sha256';
import type { Cifar10 } from '../data/index';
import { splitChecksum } from '../data/checksum';

/** The checksum a worker compares after receiving the data set: both splits, labels and pixels. */
export function datasetChecksum(data: Pick<Cifar10, 'train' | 'test'>): string {
  return createSha256()
    .update(`${splitChecksum(data.train)}:${splitChecksum(data.test)}`)
    .hex();
}
