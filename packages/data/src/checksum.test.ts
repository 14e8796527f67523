import { describe, expect, it } from 'vitest';
import { splitChecksum } from './checksum';
import { makeSyntheticCifar10 } from './synthetic';

describe('splitChecksum', () => {
  const { train } = makeSyntheticCifar10({ train: 20, test: 0, seed: 1 });

  it('is a sha256 hex digest, equal for equal data', () => {
    const copy = { images: train.images.slice(), labels: train.labels.slice(), count: train.count };
    expect(splitChecksum(train)).toMatch(/^[0-9a-f]{64}$/);
    expect(splitChecksum(copy)).toBe(splitChecksum(train));
  });

  it('changes when one pixel or one label changes', () => {
    const pixel = { ...train, images: train.images.slice() };
    pixel.images[1234] ^= 1;
    const label = { ...train, labels: train.labels.slice() };
    label.labels[5] = (label.labels[5] + 1) % 10;
    expect(splitChecksum(pixel)).not.toBe(splitChecksum(train));
    expect(splitChecksum(label)).not.toBe(splitChecksum(train));
  });
});
