import { Command, Option } from 'commander';
import { runCli } from '@gradsync/core';
import { selectBackend } from '@gradsync/core/backend';
import {
  ALLREDUCE_CHOICES,
  choiceOption,
  defaultRunName,
  intOption,
  positiveNumberOption,
  SEED_RECIPE,
  validateRunConfig,
  type RunConfig,
} from '@gradsync/core/config';
import { loadCifar10 } from '@gradsync/core/data';
import { MODEL_NAMES } from '@gradsync/core/model';
import { BACKEND_CHOICES } from '../backend-flag';
import { trainLocally } from '../train-local';

const log = (line: string) => process.stderr.write(`${line}\n`);

await runCli(async () => {
  const program = new Command('pnpm train')
    .description("Train the tutorial's CIFAR-10 network in one process (no sockets).")
    .option('--data-dir <dir>', 'folder with the CIFAR-10 binary batches or cifar-10-binary.tar.gz (default: cache, else download)')
    .option('--cache-dir <dir>', 'where a downloaded archive is kept (default: $XDG_CACHE_HOME/gradsync)')
    .option('--epochs <n>', 'epochs', intOption('--epochs', 1), SEED_RECIPE.epochs)
    .option('--batch-size <n>', 'batch size', intOption('--batch-size', 1), SEED_RECIPE.batchSize)
    .option('--lr <x>', 'Adam learning rate', positiveNumberOption('--lr'), SEED_RECIPE.lr)
    .option('--seed <n>', 'seed for weights, shuffling and augmentation', intOption('--seed', 0), SEED_RECIPE.seed)
    .option('--validation <n>', 'hold out the last N training images for validation', intOption('--validation', 0), SEED_RECIPE.validationCount)
    .option('--limit-train <n>', 'train on only the first N training images', intOption('--limit-train', 1))
    .addOption(new Option('--model <name>', 'model').choices(MODEL_NAMES).default(SEED_RECIPE.model))
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(BACKEND_CHOICES).default('auto'))
    .option('--gpu <n>', 'GPU index (selects tfjs-node-gpu)', intOption('--gpu', 0))
    .option('--no-augment', 'turn off random flip and zoom')
    .option('--run-name <name>', 'folder under --runs-dir for metrics and the model')
    .option('--runs-dir <dir>', 'where runs are written', 'runs')
  program.parse();
  const o = program.opts();
  const config: RunConfig = validateRunConfig({
    ...SEED_RECIPE,
    runName: o.runName ?? defaultRunName('train'),
    model: o.model,
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    seed: o.seed,
    validationCount: o.validation,
    limitTrain: o.limitTrain ?? null,
    augment: o.augment === false ? { flip: false, zoomRange: 0 } : SEED_RECIPE.augment,
    allreduce: choiceOption('--allreduce', ALLREDUCE_CHOICES)('auto'),
  });
  const backend = await selectBackend({ backend: o.backend, gpu: o.gpu });
  log(backend.summary);
  const data = await loadCifar10({ dataDir: o.dataDir, cacheDir: o.cacheDir, log });
  log(`data: ${data.source}`);
  const result = await trainLocally(config, data, { runsDir: o.runsDir, log });
  log(`done in ${result.wallSec.toFixed(1)} s, ${result.imagesPerSec.toFixed(1)} img/s overall; run folder ${result.runDir}`);
});
