import type { AugmentConfig } from '../augment/index';
import type { ValidationCount } from '@gradsync/data/browser';
import type { InitScheme } from '../model/layer-init';
import type { ModelName } from '../model/zoo';
import type { OptimizerConfig } from '../training/optimizer';
import type { PlateauConfig } from '../training/plateau';
import type { ScheduleConfig } from '../training/lr-schedule';
import type { Conventions } from './conventions';

/** The presets a run can start from (recipes.ts holds their values). */
export const RECIPE_NAMES = ['seed', 'improved', 'resnet9', 'airbench'] as const;
export type RecipeName = (typeof RECIPE_NAMES)[number];

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
  /** A zoo name (MODEL_NAMES), or the path of a model.json or a JS/TS module the coordinator builds the network from (model/user-model.ts). */
  model: string;
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
