/** Holding out a validation set: the last images of the training split. */
import { GradsyncError } from '@gradsync/core';
import { checkSplitShape } from './format';
import { bytesPerImage, type CifarSplit } from './types';

/** How many training images to hold out: a number, or 'auto' for 10% of them, at most 5,000. */
export type ValidationCount = number | 'auto';

/** The most 'auto' holds out: CIFAR-10's 50,000 training images give the recipe's 45,000 / 5,000. */
export const AUTO_VALIDATION_MAX = 5000;

/**
 * The validation size for `trainImages` training images. 'auto' scales with the data so that a
 * small set (a subset, or make-synthetic's) gets a split that fits instead of an error.
 */
export function resolveValidationCount(requested: ValidationCount, trainImages: number): number {
  return requested === 'auto' ? Math.min(AUTO_VALIDATION_MAX, Math.floor(trainImages / 10)) : requested;
}

/**
 * Splits off the LAST `requested` images as the validation set: views into the training split's
 * buffers, not copies, so a data set of gigabytes is held once (nothing writes to a split).
 */
export function splitValidation(train: CifarSplit, requested: ValidationCount = 'auto'): { train: CifarSplit; validation: CifarSplit } {
  // The split's own bytes per image (any data set's shape); a fraction of an image per count fails there.
  checkSplitShape(train, 'training split', train.count > 0 ? bytesPerImage(train) : 0);
  const validationCount = resolveValidationCount(requested, train.count);
  if (!Number.isInteger(validationCount) || validationCount < 0 || validationCount >= train.count) {
    throw new GradsyncError(
      'DATA_BAD_ARGUMENT',
      `--validation ${validationCount} must be an integer from 0 to ${train.count - 1}: ` +
        `the training set has ${train.count} images and must keep at least one (leave --validation out for 10% of them)`,
    );
  }
  const keep = train.count - validationCount;
  return {
    train: {
      images: train.images.subarray(0, keep * bytesPerImage(train)),
      labels: train.labels.subarray(0, keep),
      count: keep,
    },
    validation: {
      images: train.images.subarray(keep * bytesPerImage(train)),
      labels: train.labels.subarray(keep),
      count: validationCount,
    },
  };
}
