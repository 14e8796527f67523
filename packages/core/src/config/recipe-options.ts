import { Option, type Command } from 'commander';
import { INIT_SCHEMES, MODEL_NAMES } from '../model/index';
import { defaultRunName, intOption, positiveNumberOption, type RunConfig, SEED_RECIPE, validateRunConfig, validationOption } from './run-config';

/** The flags every training program shares (data, recipe, run folder), defined once. */
export function addRecipeOptions(program: Command): Command {
  return program
    .option('--data-dir <dir>', 'folder with the CIFAR-10 binary batches or cifar-10-binary.tar.gz (default: cache, else download)')
    .option('--cache-dir <dir>', 'where a downloaded archive is kept (default: $XDG_CACHE_HOME/gradsync)')
    .option('--epochs <n>', 'epochs', intOption('--epochs', 1), SEED_RECIPE.epochs)
    .option('--batch-size <n>', 'global batch size (split across workers)', intOption('--batch-size', 1), SEED_RECIPE.batchSize)
    .option('--lr <x>', 'Adam learning rate', positiveNumberOption('--lr'), SEED_RECIPE.lr)
    .option('--seed <n>', 'seed for weights, shuffling and augmentation', intOption('--seed', 0), SEED_RECIPE.seed)
    .option(
      '--validation <n>',
      'hold out the last N training images for validation ("auto": 10% of them, at most 5000: the recipe\'s 5000 on CIFAR-10)',
      validationOption,
      SEED_RECIPE.validationCount,
    )
    .option('--limit-train <n>', 'train on only the first N training images', intOption('--limit-train', 1))
    .addOption(new Option('--model <name>', 'model').choices(MODEL_NAMES).default(SEED_RECIPE.model))
    .addOption(
      new Option(
        '--init <scheme>',
        "initial weights: pytorch (torch.nn's default, learns faster under the recipe's dropout) or keras (the tutorial's glorot_uniform, zero biases)",
      )
        .choices(INIT_SCHEMES)
        .default(SEED_RECIPE.init),
    )
    .option('--no-augment', 'turn off random flip and zoom')
    .option(
      '--bn-momentum <x>',
      "BatchNorm moving-average momentum in Keras' convention: 0.99 (the tutorial's, Keras' default) or e.g. 0.9 (PyTorch's default momentum 0.1)",
      positiveNumberOption('--bn-momentum'),
      SEED_RECIPE.bnMomentum,
    )
    .option('--run-name <name>', 'folder under --runs-dir for config, metrics, checkpoints and the model')
    .option('--runs-dir <dir>', 'where runs are written', 'runs');
}

/** The validated run configuration from parsed recipe flags (plus program-specific fields). */
export function recipeFromOptions(o: Record<string, unknown>, extra: Partial<RunConfig> = {}, namePrefix = 'run'): RunConfig {
  return validateRunConfig({
    ...SEED_RECIPE,
    runName: (o.runName as string | undefined) ?? defaultRunName(namePrefix),
    model: o.model as RunConfig['model'],
    init: o.init as RunConfig['init'],
    epochs: o.epochs as number,
    batchSize: o.batchSize as number,
    lr: o.lr as number,
    seed: o.seed as number,
    validationCount: o.validation as RunConfig['validationCount'],
    limitTrain: (o.limitTrain as number | undefined) ?? null,
    bnMomentum: o.bnMomentum as number,
    augment: o.augment === false ? { flip: false, zoomRange: 0 } : SEED_RECIPE.augment,
    ...extra,
  });
}
