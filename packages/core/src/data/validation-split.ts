/** Holding out a validation set: the last images of the training split. */
import { GradsyncError } from '../errors/index';
import { checkSplitShape } from './format';
import { IMAGE_BYTES, type CifarSplit } from './types';

/** Splits off the LAST `validationCount` images as the validation set (copies, not views). */
export function splitValidation(
  train: CifarSplit,
  validationCount = 5000,
): { train: CifarSplit; validation: CifarSplit } {
  checkSplitShape(train, 'training split');
  if (!Number.isInteger(validationCount) || validationCount < 0 || validationCount >= train.count) {
    throw new GradsyncError(
      'DATA_BAD_ARGUMENT',
      `validation size ${validationCount} must be an integer from 0 to ${train.count - 1} ` +
        `(the training set has ${train.count} images and must keep at least one)`,
    );
  }
  const keep = train.count - validationCount;
  return {
    train: {
      images: train.images.slice(0, keep * IMAGE_BYTES),
      labels: train.labels.slice(0, keep),
      count: keep,
    },
    validation: {
      images: train.images.slice(keep * IMAGE_BYTES),
      labels: train.labels.slice(keep),
      count: validationCount,
    },
  };
}
