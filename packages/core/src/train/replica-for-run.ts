import { CONVENTION_DEFAULTS } from '../config/conventions';
import type { RunConfig } from '../config/run-config';
import { buildModel } from '../model/zoo';
import { Replica } from './replica';

/** The replica a run trains: its model, optimizer and loss from the configuration, the same on every rank. */
export function replicaForRun(
  config: Pick<RunConfig, 'model' | 'seed' | 'init' | 'bnMomentum' | 'conventions' | 'dropoutScale' | 'optimizer' | 'labelSmoothing' | 'syncBatchNorm'> &
    Partial<Pick<RunConfig, 'testTimeFlip'>>,
): Replica {
  const conventions = CONVENTION_DEFAULTS[config.conventions];
  const model = buildModel(config.model, config.seed, {
    init: config.init,
    bnMomentum: config.bnMomentum,
    bnEpsilon: conventions.bnEpsilon,
    dropoutScale: config.dropoutScale,
  });
  return new Replica(model, {
    optimizer: config.optimizer,
    labelSmoothing: config.labelSmoothing,
    syncBatchNorm: config.syncBatchNorm,
    adam: conventions.adam,
    testTimeFlip: config.testTimeFlip ?? false,
  });
}
