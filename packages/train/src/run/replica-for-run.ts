import { CONVENTION_DEFAULTS } from '../config/conventions';
import type { RunConfig } from '../config/run-config';
import type { CifarSplit, ImageDataset } from '@gradsync/data/browser';
import type { ModelShape } from '../model/model-shape';
import { whitenStem } from '../model/whitening';
import type * as tfl from '@tensorflow/tfjs-layers';
import { GradsyncError } from '@gradsync/core';
import { isZooModel } from '../model/topology';
import { buildModel } from '../model/zoo';
import { Replica } from '../training/replica';

/**
 * The replica a run trains: its model, optimizer and loss from the configuration, the same on every rank.
 * `trainSplit` (the run's training images) is needed for the weights that come from the data, the
 * whitened stem: whoever makes a run's first weights passes it (the coordinator, `pnpm train`); a
 * worker builds without it and takes its weights from the coordinator's first state.
 */
/** The model shape a data set asks for: its images in, one logit per class out. */
export function modelShapeFor(data: Pick<ImageDataset, 'shape' | 'classNames'>): ModelShape {
  return { inputShape: [data.shape.height, data.shape.width, data.shape.channels], numClasses: data.classNames.length };
}

export function replicaForRun(
  config: Pick<RunConfig, 'model' | 'seed' | 'init' | 'bnMomentum' | 'conventions' | 'dropoutScale' | 'optimizer' | 'labelSmoothing' | 'syncBatchNorm'> &
    Partial<Pick<RunConfig, 'testTimeFlip' | 'whitenedStem' | 'bucketKib'>>,
  trainSplit?: CifarSplit,
  /** The data's image shape and classes (default CIFAR-10's). */
  shape?: ModelShape,
  /** The network when --model names a file: built beforehand (networkForRun, modelFromTopology), since that is async. */
  network?: tfl.LayersModel,
): Replica {
  const conventions = CONVENTION_DEFAULTS[config.conventions];
  if (!network && !isZooModel(config.model)) {
    throw new GradsyncError('E_MODEL', `model ${config.model} is a file: its network must be built (networkForRun) before the replica`);
  }
  const model =
    network ??
    buildModel(config.model, config.seed, {
      init: config.init,
      bnMomentum: config.bnMomentum,
      bnEpsilon: conventions.bnEpsilon,
      dropoutScale: config.dropoutScale,
      whitenedStem: config.whitenedStem ?? false,
      shape,
    });
  if (config.whitenedStem && trainSplit) whitenStem(model, trainSplit.images, trainSplit.count);
  return new Replica(model, {
    optimizer: config.optimizer,
    labelSmoothing: config.labelSmoothing,
    syncBatchNorm: config.syncBatchNorm,
    adam: conventions.adam,
    testTimeFlip: config.testTimeFlip ?? false,
    bucketBytes: config.bucketKib === undefined ? undefined : Math.round(config.bucketKib * 1024),
  });
}
