import { Command, Option } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { GradsyncError, runCli } from '@gradsync/core';
import { selectBackend } from '@gradsync/core/backend';
import { intOption, THREADS_HELP } from '@gradsync/core/config';
import { loadLayersModel } from '@gradsync/core/model';
import { BACKEND_CHOICES } from '../backend-flag';
import { decodeImageFile, toModelInput } from '../image-decode';

await runCli(async () => {
  const program = new Command('pnpm predict')
    .description('Classify images with a model a training run exported.')
    .requiredOption('--model <dir>', 'model folder (runs/<name>/model)')
    .requiredOption('--image <files...>', 'PNG or JPEG images, any size')
    .option('--top <k>', 'how many classes to show', intOption('--top', 1), 3)
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(BACKEND_CHOICES).default('auto'))
    .option('--threads <n>', THREADS_HELP, intOption('--threads', 1));
  program.parse();
  const o = program.opts();
  const backend = await selectBackend({ backend: o.backend, threads: o.threads });
  process.stderr.write(`${backend.summary}\n`);
  const { model, metadata } = await loadLayersModel(o.model);
  const classNames = Array.isArray(metadata.classNames) ? (metadata.classNames as string[]) : null;
  const inputShape = model.inputs[0].shape;
  if (inputShape[1] !== 32 || inputShape[2] !== 32 || inputShape[3] !== 3) {
    throw new GradsyncError('E_MODEL_FILE', `model expects input ${JSON.stringify(inputShape)}, not 32x32 RGB`);
  }
  for (const file of o.image as string[]) {
    const image = await decodeImageFile(file);
    const probs = tf.tidy(() => tf.softmax(model.predict(toModelInput(image)) as tf.Tensor2D));
    const p = Array.from(await probs.data());
    probs.dispose();
    const top = p
      .map((prob, cls) => ({ prob, cls }))
      .sort((a, b) => b.prob - a.prob)
      .slice(0, o.top);
    process.stdout.write(`${file} (${image.width}x${image.height})\n`);
    for (const { prob, cls } of top) {
      process.stdout.write(`  ${(classNames?.[cls] ?? `class ${cls}`).padEnd(12)} ${(prob * 100).toFixed(1)}%\n`);
    }
  }
});
