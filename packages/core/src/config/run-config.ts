import type { AugmentConfig } from '../augment/index';
import type { ValidationCount } from '../data/validation-split';
import { GradsyncError } from '../errors/gradsync-error';
import { INIT_SCHEMES, type InitScheme } from '../model/layer-init';
import { MODEL_NAMES, type ModelName } from '../model/zoo';
import { OPTIMIZER_KINDS, type OptimizerConfig } from '../train/optimizer';
import type { PlateauConfig } from '../train/plateau';
import { SCHEDULE_KINDS, type ScheduleConfig } from '../train/lr-schedule';
import { CONVENTIONS, type Conventions } from './conventions';
import { RECIPE_NAMES, type RecipeName, SEED_RECIPE } from './recipes';

export const ALLREDUCE_CHOICES = ['auto', 'ring', 'star'] as const;
export type AllReduceChoice = (typeof ALLREDUCE_CHOICES)[number];
/**
 * What the ring's floats travel as: @gradsync/collective's WireDtype (Note [Wire rounding] there),
 * listed here because core cannot import collective; the worker hands one to the other, so
 * TypeScript fails the build if a choice here is not a WireDtype there.
 */
export const WIRE_DTYPE_CHOICES = ['f32', 'bf16', 'fp16'] as const;
export type WireDtypeChoice = (typeof WIRE_DTYPE_CHOICES)[number];

/** How each global batch is shared among the workers: evenly, or in proportion to each one's measured compute rate. */
export const SPLIT_CHOICES = ['equal', 'speed'] as const;
export type SplitChoice = (typeof SPLIT_CHOICES)[number];

/** The models synchronised BatchNorm can run (sequential, with BatchNorm). */
export const SYNC_BN_MODELS: readonly ModelName[] = ['seed-cnn'];

/** Every hyper-parameter of a run, named once; validated once; written to runs/<name>/config.json. */
export interface RunConfig {
  runName: string;
  /** The preset the run started from (recipes.ts); the fields below are what it trains with, flags included. */
  recipe: RecipeName;
  model: ModelName;
  /** How the weights start (see INIT_SCHEMES). */
  init: InitScheme;
  epochs: number;
  /** Global batch: the same whatever the number of workers. */
  batchSize: number;
  lr: number;
  seed: number;
  /** The last `validationCount` training images are held out for validation ('auto': 10%, at most 5,000). */
  validationCount: ValidationCount;
  /** Train on only the first N training images (after the validation split); null = all. */
  limitTrain: number | null;
  augment: AugmentConfig;
  /**
   * BatchNorm's moving-average momentum, Keras' convention: 0.99 is the tutorial's (Keras'
   * default); PyTorch's default momentum 0.1 is 0.9 here, and its moving statistics catch up with
   * the weights in ten times fewer steps.
   */
  bnMomentum: number;
  /**
   * Keras' or PyTorch's values where the recipe leaves them to the framework (conventions.ts):
   * Adam's epsilon and its placement and BatchNorm's epsilon follow this field; BatchNorm's
   * momentum and the plateau's threshold are fields of their own, which --conventions sets.
   */
  conventions: Conventions;
  /** seed-cnn's dropout rates (0.25, 0.25, 0.5) times this: 1 is the tutorial's, 0 turns dropout off. Models without dropout ignore it. */
  dropoutScale: number;
  /** Label smoothing ε of the training loss (0: plain cross-entropy). */
  labelSmoothing: number;
  optimizer: OptimizerConfig;
  /** How the learning rate moves: `lr` is the start (plateau) or the peak (one-cycle, cosine). */
  schedule: ScheduleConfig;
  /**
   * BatchNorm statistics over the global batch (PyTorch's SyncBatchNorm) instead of each worker's
   * share: the result no longer depends on the number of workers, for 2 small all-reduces per
   * BatchNorm layer and a third more compute a step (train/sync-batch-norm.ts). Sequential models only.
   */
  syncBatchNorm: boolean;
  /** Validation and test accuracy from the mean logits of each image and its mirror image (train/evaluate.ts); training is unchanged. */
  testTimeFlip: boolean;
  /**
   * airbench's stem frozen at the whitening of the training images' 2×2 patches (model/whitening.ts),
   * computed by whoever builds the first weights (the coordinator, or `pnpm train`) and sent with them.
   */
  whitenedStem: boolean;
  /** ReduceLROnPlateau's settings, used when schedule.kind is 'plateau'. */
  plateau: PlateauConfig;
  allreduce: AllReduceChoice;
  /** Gradients cross the ring as float32, or compressed to 16 bits and summed in float32 (DDP's compression hooks). */
  wireDtype: WireDtypeChoice;
  /** KiB per all-reduce bucket of the ring's step buffer (Note [Bucket plan] in train/bucket-plan.ts; PyTorch DDP's bucket_cap_mb). */
  bucketKib: number;
  /** The split of each global batch among the workers; the batch itself, and so the trajectory, is the same either way. */
  split: SplitChoice;
  /** Workers report a hash of their weights every this many steps (and at every epoch end). */
  hashEvery: number;
  /** Stop the run after this many steps in a row whose summed gradient held NaN or Inf. */
  maxNonFiniteSteps: number;
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
  if (!(MODEL_NAMES as readonly string[]).includes(c.model)) fail('model', c.model, `one of ${MODEL_NAMES.join(', ')}`);
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

/** Commander argument parsers that fail with a one-line message naming the flag. */
export function intOption(flag: string, min = 0): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || n < min) throw new GradsyncError('E_FLAG', `${flag} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };
}

export function positiveNumberOption(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new GradsyncError('E_FLAG', `${flag} must be a positive number, got "${v}"`);
    return n;
  };
}

/** `--validation`: a count of images, or 'auto'. */
export function validationOption(v: string): ValidationCount {
  if (v.trim() === 'auto') return 'auto';
  const n = Number(v);
  if (!/^\d+$/.test(v.trim())) throw new GradsyncError('E_FLAG', `--validation must be an integer ≥ 0 or "auto", got "${v}"`);
  return n;
}

export function choiceOption<T extends string>(flag: string, choices: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!(choices as readonly string[]).includes(v)) throw new GradsyncError('E_FLAG', `${flag} must be one of ${choices.join(', ')}, got "${v}"`);
    return v as T;
  };
}

export function defaultRunName(prefix = 'run', d = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${prefix}-${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}
