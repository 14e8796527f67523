/**
 * Which images a run trains and validates on: the validation split, then --limit-train. The
 * coordinator and every worker compute it from the same data and configuration, so they agree on
 * which sample an index names.
 */
import type { RunConfig } from '../config/run-config';
import { bytesPerImage, type CifarSplit, splitValidation } from '@gradsync/data/browser';

export function trainingSplits(train: CifarSplit, config: Pick<RunConfig, 'validationCount' | 'limitTrain'>): { train: CifarSplit; validation: CifarSplit } {
  const split = splitValidation(train, config.validationCount);
  const n = config.limitTrain;
  if (n === null || n >= split.train.count) return split;
  return {
    train: { images: split.train.images.subarray(0, n * bytesPerImage(split.train)), labels: split.train.labels.subarray(0, n), count: n },
    validation: split.validation,
  };
}
