import { describe, expect, it } from 'vitest';
import { makeSyntheticCifar10 } from './synthetic';
import { IMAGE_BYTES } from './types';
import { splitValidation } from './validation-split';

describe('splitValidation', () => {
  const { train } = makeSyntheticCifar10({ train: 30, test: 0, seed: 2 });

  it('holds out the last images', () => {
    const { train: kept, validation } = splitValidation(train, 8);
    expect(kept.count).toBe(22);
    expect(validation.count).toBe(8);
    expect(kept.labels).toEqual(train.labels.subarray(0, 22));
    expect(validation.labels).toEqual(train.labels.subarray(22));
    expect(Buffer.compare(kept.images, train.images.subarray(0, 22 * IMAGE_BYTES))).toBe(0);
    expect(Buffer.compare(validation.images, train.images.subarray(22 * IMAGE_BYTES))).toBe(0);
  });

  it('allows 0 and defaults to 5000', () => {
    expect(splitValidation(train, 0).validation.count).toBe(0);
    expect(splitValidation(train, 0).train.count).toBe(30);
    expect(() => splitValidation(train)).toThrow(/validation size 5000/);
  });

  it('rejects a validation set as large as the training set', () => {
    expect(() => splitValidation(train, 30)).toThrow(/0 to 29/);
    expect(() => splitValidation(train, -1)).toThrow(/validation size -1/);
  });
});
