/**
 * @gradsync/api: gradsync from a program. `train({ model, data, workers })` runs a coordinator
 * here and local worker processes, as `gradsync start` does; the types a model module or a
 * builder function is written against come with it.
 */
export { train, type TrainOptions, type TrainResult } from './train';
export type { GradsyncTf, ModelBuilder, ModelModuleArgs } from '@gradsync/train/node';
export type { RecipeName, RunConfig } from '@gradsync/train';
export type { DataReadOptions } from '@gradsync/data';
export type { MetricRecord, EpochRecord, StepRecord, EndRecord } from '@gradsync/metrics';
