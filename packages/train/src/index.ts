/**
 * @gradsync/train: what one replica needs to train: the model zoo, augmentation, the optimizers
 * and schedules, evaluation, and the run configuration every rank shares.
 */
export * from './model/index';
export * from './augment/index';
export * from './training/index';
export * from './config/index';
export * from './run/index';
