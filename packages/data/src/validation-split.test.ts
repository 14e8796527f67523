import { describe, expect, it } from 'vitest';
import { makeSyntheticCifar10 } from './synthetic';
import { IMAGE_BYTES } from './types';
import { resolveValidationCount, splitValidation } from './validation-split';

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

  it('holds the images once: both splits are views into the training buffer', () => {
    const { train: kept, validation } = splitValidation(train, 8);
    for (const part of [kept.images, validation.images]) expect(part.buffer).toBe(train.images.buffer);
    expect(kept.labels.buffer).toBe(train.labels.buffer);
    expect(validation.images.byteOffset).toBe(train.images.byteOffset + 22 * IMAGE_BYTES);
  });

  it("allows 0 and defaults to 'auto': 10% of the images", () => {
    expect(splitValidation(train, 0).validation.count).toBe(0);
    expect(splitValidation(train, 0).train.count).toBe(30);
    expect(splitValidation(train).validation.count).toBe(3);
    expect(splitValidation(train, 'auto').train.count).toBe(27);
  });

  it("'auto' is the recipe's 5000 on CIFAR-10's 50,000 images and fits any smaller set", () => {
    expect(resolveValidationCount('auto', 50_000)).toBe(5000);
    expect(resolveValidationCount('auto', 200_000)).toBe(5000);
    expect(resolveValidationCount('auto', 2000)).toBe(200);
    expect(resolveValidationCount('auto', 5)).toBe(0);
    expect(resolveValidationCount(123, 50_000)).toBe(123);
  });

  it('rejects a validation set as large as the training set', () => {
    expect(() => splitValidation(train, 30)).toThrow(/0 to 29/);
    expect(() => splitValidation(train, -1)).toThrow(/--validation -1 must be an integer from 0 to 29/);
    expect(() => splitValidation(train, 5000)).toThrow(/has 30 images .*leave --validation out/);
  });
});
