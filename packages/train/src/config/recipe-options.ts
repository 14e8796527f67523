import { Option, type Command } from 'commander';
import { AUGMENT_KIND_NAMES, AUGMENT_KINDS, type AugmentKind } from '../augment/index';
import { GradsyncError } from '@gradsync/core';
import { INIT_SCHEMES, isModelSpec, MODEL_NAMES, WHITENING_IMAGES } from '../model/index';
import { OPTIMIZER_KINDS, SCHEDULE_KINDS } from '../training/index';
import { CONVENTION_DEFAULTS, CONVENTIONS, type Conventions } from './conventions';
import { type Recipe, RECIPES, SEED_RECIPE } from './recipes';
import { RECIPE_NAMES, type RecipeName, type RunConfig } from './run-config';
import { validateRunConfig } from './run-config-check';
import { defaultRunName, intOption, positiveNumberOption, validationOption } from './run-config-options';

/** A commander parser for a number in [0, 1) (label smoothing, warm-up fraction). */
function unitIntervalOption(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !(n >= 0 && n < 1)) throw new GradsyncError('E_FLAG', `${flag} must be a number in [0, 1), got "${v}"`);
    return n;
  };
}

function nonNegativeNumberOption(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new GradsyncError('E_FLAG', `${flag} must be a number ≥ 0, got "${v}"`);
    return n;
  };
}

/** "(seed: 20, improved: 20, resnet9: 24)": what each preset sets, for the help of a flag with no default of its own. */
function presetValues(pick: (r: Recipe) => unknown): string {
  return `(default: the recipe's — ${RECIPE_NAMES.map((n) => `${n} ${String(pick(RECIPES[n]))}`).join(', ')})`;
}

/**
 * The flags every training program shares (data, recipe, run folder), defined once. The fields a
 * preset sets have no commander default: a flag left out is undefined, so the preset's value
 * stands, and a flag given wins over it.
 */
export function addRecipeOptions(program: Command): Command {
  return program
    .option('--data-dir <dir>', 'CIFAR-10 or CIFAR-100 binary files, or an image folder (see --data-format; default: CIFAR-10 from the cache, else download)')
    .option('--cache-dir <dir>', 'where a downloaded archive is kept (default: $XDG_CACHE_HOME/gradsync)')
    .addOption(
      new Option(
        '--recipe <name>',
        "named preset: seed (the tutorial's, exactly), improved (same network, crop + flip, label smoothing, AdamW, one-cycle), resnet9 (ResNet-9, SGD + Nesterov, one-cycle), airbench (airbench's network, a third of ResNet-9's work, the same optimizer, all 50,000 training images); flags given win over it",
      )
        .choices(RECIPE_NAMES)
        .default(SEED_RECIPE.recipe),
    )
    .option('--epochs <n>', `epochs ${presetValues((r) => r.epochs)}`, intOption('--epochs', 1))
    .option('--batch-size <n>', `global batch size, split across workers ${presetValues((r) => r.batchSize)}`, intOption('--batch-size', 1))
    .option('--lr <x>', `learning rate: the start (plateau) or the peak (one-cycle, cosine) ${presetValues((r) => r.lr)}`, positiveNumberOption('--lr'))
    .option('--seed <n>', 'seed for weights, shuffling and augmentation', intOption('--seed', 0), SEED_RECIPE.seed)
    .option(
      '--validation <n>',
      `hold out the last N training images for validation ("auto": 10% of them, at most 5000, so 5000 on CIFAR-10; 0: none) ${presetValues((r) => String(r.validationCount))}`,
      validationOption,
    )
    .option('--limit-train <n>', 'train on only the first N training images', intOption('--limit-train', 1))
    .option(
      '--model <name|file>',
      `model: one of ${MODEL_NAMES.join(', ')} ${presetValues((r) => r.model)}, a tfjs Layers model.json, or a JS/TS module whose default export builds one from { tf, inputShape, numClasses }`,
      modelOption,
    )
    .addOption(
      new Option(
        '--init <scheme>',
        "initial weights: pytorch (torch.nn's default, learns faster under the recipe's dropout) or keras (the tutorial's glorot_uniform, zero biases)",
      ).choices(INIT_SCHEMES),
    )
    .addOption(
      new Option(
        '--augment <kind>',
        `per-sample augmentation: flip-zoom (the tutorial's flip and ±10% zoom), flip-crop (flip and a random crop of the image padded by 4), airbench (a flip that alternates each image's side from epoch to epoch and a crop of the image padded by 2), none ${presetValues((r) => augmentKindOf(r.augment))}`,
      ).choices(AUGMENT_KIND_NAMES),
    )
    .option('--no-augment', 'turn augmentation off (the same as --augment none)')
    .option(
      '--bn-momentum <x>',
      `BatchNorm moving-average momentum in Keras' convention: 0.99 (the tutorial's, Keras' default) or e.g. 0.9 (PyTorch's default momentum 0.1) ${presetValues((r) => r.bnMomentum)}`,
      positiveNumberOption('--bn-momentum'),
    )
    .addOption(
      new Option(
        '--conventions <framework>',
        `Keras' or PyTorch's defaults where the recipe leaves them to the framework: Adam epsilon 1e-7 on √v or 1e-8 on the bias-corrected √v, BatchNorm epsilon 1e-3 or 1e-5 and momentum 0.99 or 0.9 (--bn-momentum wins), ReduceLROnPlateau's min_delta absolute or relative ${presetValues((r) => r.conventions)}`,
      ).choices(CONVENTIONS),
    )
    .addOption(
      new Option(
        '--optimizer <kind>',
        `adam (Keras' Adam), adamw (decoupled weight decay), sgd-nesterov (momentum 0.9) ${presetValues((r) => r.optimizer.kind)}`,
      ).choices(OPTIMIZER_KINDS),
    )
    .option(
      '--weight-decay <x>',
      `weight decay on conv and dense kernels ${presetValues((r) => r.optimizer.weightDecay)}`,
      nonNegativeNumberOption('--weight-decay'),
    )
    .option(
      '--dropout-scale <x>',
      `seed-cnn's dropout rates (0.25, 0.25, 0.5) times this: 1 the tutorial's, 0 none ${presetValues((r) => r.dropoutScale)}`,
      nonNegativeNumberOption('--dropout-scale'),
    )
    .option('--label-smoothing <x>', `label smoothing of the training loss ${presetValues((r) => r.labelSmoothing)}`, unitIntervalOption('--label-smoothing'))
    .addOption(
      new Option(
        '--schedule <kind>',
        `learning-rate schedule: plateau (ReduceLROnPlateau on validation loss, the tutorial's), one-cycle (warm-up, then linear to 0), cosine ${presetValues((r) => r.schedule.kind)}`,
      ).choices(SCHEDULE_KINDS),
    )
    .option(
      '--warmup <fraction>',
      `one-cycle / cosine: fraction of all steps spent warming up ${presetValues((r) => r.schedule.warmupFraction.toFixed(3))}`,
      unitIntervalOption('--warmup'),
    )
    .option(
      '--sync-bn',
      "BatchNorm statistics over the global batch, not each worker's share (seed-cnn; 2 small all-reduces per BatchNorm layer and about a third more compute a step)",
    )
    .option(
      '--test-time-flip',
      `evaluate each image and its mirror image, averaging their logits (training is unchanged) ${presetValues((r) => (r.testTimeFlip ? 'on' : 'off'))}`,
    )
    .option('--no-test-time-flip', 'evaluate each image once')
    .option(
      '--whiten-stem',
      `airbench: freeze its 2×2 stem at the whitening of the training images' patches (computed once from the first ${WHITENING_IMAGES}), as airbench does ${presetValues((r) => (r.whitenedStem ? 'on' : 'off'))}`,
    )
    .option('--no-whiten-stem', 'airbench: let the stem learn from its random start')
    .option('--run-name <name>', 'folder under --runs-dir for config, metrics, checkpoints and the model')
    .option('--runs-dir <dir>', 'where runs are written', 'runs');
}

/** The --augment name of an augmentation config ('custom' when it is none of them). */
function augmentKindOf(config: Recipe['augment']): string {
  const found = AUGMENT_KIND_NAMES.find((k) => JSON.stringify(AUGMENT_KINDS[k]) === JSON.stringify(config));
  return found ?? 'custom';
}

/** --model: a zoo name or a model file's path (checked here, built by networkForRun). */
function modelOption(v: string): string {
  if (!isModelSpec(v))
    throw new GradsyncError('E_FLAG', `--model must be one of ${MODEL_NAMES.join(', ')}, or a model.json or .js/.ts module path, got "${v}"`);
  return v;
}

/**
 * The validated run configuration from parsed recipe flags (plus program-specific fields): the
 * preset named by --recipe, with every flag that was given put over it.
 */
export function recipeFromOptions(o: Record<string, unknown>, extra: Partial<RunConfig> = {}, namePrefix = 'run'): RunConfig {
  const name = (o.recipe as RecipeName | undefined) ?? SEED_RECIPE.recipe;
  const preset = RECIPES[name];
  if (!preset) throw new GradsyncError('E_FLAG', `--recipe must be one of ${RECIPE_NAMES.join(', ')}, got "${String(name)}"`);
  const given = <T>(key: string): T | undefined => o[key] as T | undefined;
  // --conventions sets its fields over the preset's; a flag for one of them wins over both.
  const conventions = given<Conventions>('conventions');
  const fromConventions = conventions === undefined ? undefined : CONVENTION_DEFAULTS[conventions];
  const model = given<RunConfig['model']>('model') ?? preset.model;
  // A preset's dropout scale carries over to a model without dropout, harmlessly; the flag itself would do nothing there.
  if (given('dropoutScale') !== undefined && model !== 'seed-cnn') {
    throw new GradsyncError('E_FLAG', `--dropout-scale applies to seed-cnn only: ${model} has no dropout`);
  }
  const augment =
    o.augment === false ? AUGMENT_KINDS.none : o.augment === undefined || o.augment === true ? preset.augment : AUGMENT_KINDS[o.augment as AugmentKind];
  return validateRunConfig({
    ...preset,
    runName: given<string>('runName') ?? defaultRunName(namePrefix),
    model,
    init: given<RunConfig['init']>('init') ?? preset.init,
    epochs: given<number>('epochs') ?? preset.epochs,
    batchSize: given<number>('batchSize') ?? preset.batchSize,
    lr: given<number>('lr') ?? preset.lr,
    seed: given<number>('seed') ?? preset.seed,
    validationCount: given<RunConfig['validationCount']>('validation') ?? preset.validationCount,
    limitTrain: given<number>('limitTrain') ?? preset.limitTrain,
    bnMomentum: given<number>('bnMomentum') ?? fromConventions?.bnMomentum ?? preset.bnMomentum,
    conventions: conventions ?? preset.conventions,
    plateau: { ...preset.plateau, threshold: fromConventions?.plateauThreshold ?? preset.plateau.threshold },
    augment,
    labelSmoothing: given<number>('labelSmoothing') ?? preset.labelSmoothing,
    dropoutScale: given<number>('dropoutScale') ?? preset.dropoutScale,
    optimizer: {
      ...preset.optimizer,
      kind: given<RunConfig['optimizer']['kind']>('optimizer') ?? preset.optimizer.kind,
      weightDecay: given<number>('weightDecay') ?? preset.optimizer.weightDecay,
    },
    schedule: {
      kind: given<RunConfig['schedule']['kind']>('schedule') ?? preset.schedule.kind,
      warmupFraction: given<number>('warmup') ?? preset.schedule.warmupFraction,
    },
    syncBatchNorm: given<boolean>('syncBn') ?? preset.syncBatchNorm,
    testTimeFlip: given<boolean>('testTimeFlip') ?? preset.testTimeFlip,
    // Another --model drops the preset's whitened stem (airbench's alone); the flag itself is checked.
    whitenedStem: given<boolean>('whitenStem') ?? (model === preset.model && preset.whitenedStem),
    ...extra,
  });
}
