import { GradsyncError } from '@gradsync/core';
import { INIT_SCHEMES } from '../model/layer-init';
import { MODEL_NAMES } from '../model/zoo';
import { isRunModel } from '../model/topology';
import { OPTIMIZER_KINDS } from '../training/optimizer';
import { SCHEDULE_KINDS } from '../training/lr-schedule';
import { CONVENTIONS } from './conventions';
import { SEED_RECIPE } from './recipes';
import { ALLREDUCE_CHOICES, RECIPE_NAMES, type RunConfig, SPLIT_CHOICES, SYNC_BN_MODELS, WIRE_DTYPE_CHOICES } from './run-config';

/**
 * A run configuration from outside the program (a config.json, the coordinator's welcome message):
 * an object, completed where an older writer left today's fields out, then checked field by field
 * with the same checks as the command line's. The error names the first bad field.
 */
export function parseRunConfig(value: unknown): RunConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('run configuration', value, 'an object');
  const completed = completeOlderConfig(value as Partial<RunConfig>);
  return validateRunConfig({ runName: 'run', ...completed } as RunConfig);
}

function fail(field: string, value: unknown, want: string): never {
  throw new GradsyncError('E_CONFIG', `${field} must be ${want}, got ${JSON.stringify(value)}`);
}

function int(field: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(field, v, `an integer ≥ ${min}`);
  return v;
}

/**
 * A configuration written before some of today's fields existed (an older run's config.json, an
 * older coordinator's welcome), completed with the values it ran with: the seed recipe's.
 */
export function completeOlderConfig(saved: Partial<RunConfig>): Omit<RunConfig, 'runName'> & Partial<Pick<RunConfig, 'runName'>> {
  return { ...SEED_RECIPE, ...saved, augment: { ...SEED_RECIPE.augment, ...saved.augment }, plateau: { ...SEED_RECIPE.plateau, ...saved.plateau } };
}

/** A number in [0, 1). */
function unitInterval(field: string, v: unknown): void {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) fail(field, v, 'in [0, 1)');
}

/** Checks a whole configuration; the error names the first bad field. */
export function validateRunConfig(c: RunConfig): RunConfig {
  if (typeof c.runName !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(c.runName)) {
    fail('run name', c.runName, 'letters, digits, ".", "_" or "-" (at most 100)');
  }
  if (!(RECIPE_NAMES as readonly string[]).includes(c.recipe)) fail('recipe', c.recipe, `one of ${RECIPE_NAMES.join(', ')}`);
  if (typeof c.model !== 'string' || !isRunModel(c.model)) fail('model', c.model, `one of ${MODEL_NAMES.join(', ')}, or a model.json or .js/.ts module`);
  if (!(INIT_SCHEMES as readonly string[]).includes(c.init)) fail('init', c.init, `one of ${INIT_SCHEMES.join(', ')}`);
  int('epochs', c.epochs, 1);
  int('batch size', c.batchSize, 1);
  if (typeof c.lr !== 'number' || !(c.lr > 0) || !Number.isFinite(c.lr)) fail('learning rate', c.lr, 'a positive number');
  int('seed', c.seed, 0);
  if (c.validationCount !== 'auto') int('validation count', c.validationCount, 0);
  if (c.limitTrain !== null) int('limit-train', c.limitTrain, 1);
  if (typeof c.augment?.flip !== 'boolean') fail('augment.flip', c.augment?.flip, 'true or false');
  if (c.augment.alternatingFlip !== undefined && typeof c.augment.alternatingFlip !== 'boolean') {
    fail('augment.alternatingFlip', c.augment.alternatingFlip, 'true or false');
  }
  if (c.augment.alternatingFlip && !c.augment.flip) fail('augment.alternatingFlip', true, 'false when augment.flip is off (it alternates the flip)');
  if (!(c.augment.zoomRange >= 0 && c.augment.zoomRange < 1)) fail('zoom range', c.augment.zoomRange, 'in [0, 1)');
  int('crop padding', c.augment.cropPadding, 0);
  if (c.augment.cropPadding > 16) fail('crop padding', c.augment.cropPadding, 'at most 16 (half the image)');
  unitInterval('label smoothing', c.labelSmoothing);
  if (typeof c.dropoutScale !== 'number' || !(c.dropoutScale >= 0 && c.dropoutScale < 2)) {
    fail('dropout scale', c.dropoutScale, 'in [0, 2) (the largest rate, 0.5 × scale, must stay below 1)');
  }
  if (!(OPTIMIZER_KINDS as readonly string[]).includes(c.optimizer?.kind)) fail('optimizer', c.optimizer?.kind, `one of ${OPTIMIZER_KINDS.join(', ')}`);
  if (typeof c.optimizer.weightDecay !== 'number' || !(c.optimizer.weightDecay >= 0) || !Number.isFinite(c.optimizer.weightDecay)) {
    fail('weight decay', c.optimizer.weightDecay, 'a number ≥ 0');
  }
  unitInterval('momentum', c.optimizer.momentum);
  if (!(SCHEDULE_KINDS as readonly string[]).includes(c.schedule?.kind)) fail('schedule', c.schedule?.kind, `one of ${SCHEDULE_KINDS.join(', ')}`);
  unitInterval('warm-up fraction', c.schedule.warmupFraction);
  if (typeof c.syncBatchNorm !== 'boolean') fail('sync-bn', c.syncBatchNorm, 'true or false');
  if (c.syncBatchNorm && !(SYNC_BN_MODELS as readonly string[]).includes(c.model)) {
    fail('sync-bn', c.syncBatchNorm, `off for model ${c.model} (it needs a sequential model with BatchNorm: ${SYNC_BN_MODELS.join(', ')})`);
  }
  if (typeof c.testTimeFlip !== 'boolean') fail('test-time flip', c.testTimeFlip, 'true or false');
  if (typeof c.whitenedStem !== 'boolean') fail('whiten-stem', c.whitenedStem, 'true or false');
  if (c.whitenedStem && c.model !== 'airbench') fail('whiten-stem', c.whitenedStem, `off for model ${c.model} (only airbench has a whitening stem)`);
  if (typeof c.bnMomentum !== 'number' || !(c.bnMomentum > 0 && c.bnMomentum < 1)) fail('BatchNorm momentum', c.bnMomentum, 'in (0, 1)');
  if (!(CONVENTIONS as readonly string[]).includes(c.conventions)) fail('conventions', c.conventions, `one of ${CONVENTIONS.join(', ')}`);
  if (!(c.plateau.factor > 0 && c.plateau.factor < 1)) fail('plateau factor', c.plateau.factor, 'in (0, 1)');
  if (c.plateau.threshold !== 'absolute' && c.plateau.threshold !== 'relative') fail('plateau threshold', c.plateau.threshold, 'absolute or relative');
  int('plateau patience', c.plateau.patience, 1);
  if (!(ALLREDUCE_CHOICES as readonly string[]).includes(c.allreduce)) fail('allreduce', c.allreduce, ALLREDUCE_CHOICES.join(' | '));
  if (!(WIRE_DTYPE_CHOICES as readonly string[]).includes(c.wireDtype)) fail('wire dtype', c.wireDtype, WIRE_DTYPE_CHOICES.join(' | '));
  if (c.wireDtype !== 'f32' && c.allreduce === 'star') fail('wire dtype', c.wireDtype, 'f32 with --allreduce star (the star sends float32; use ring or auto)');
  if (typeof c.bucketKib !== 'number' || !(c.bucketKib >= 1 / 256 && c.bucketKib <= 2 ** 20))
    fail('bucket size (KiB)', c.bucketKib, 'a number of KiB from 1/256 (4 bytes) to 2^20');
  if (!(SPLIT_CHOICES as readonly string[]).includes(c.split)) fail('split', c.split, SPLIT_CHOICES.join(' | '));
  int('hash interval', c.hashEvery, 1);
  int('max non-finite steps', c.maxNonFiniteSteps, 1);
  return c;
}
