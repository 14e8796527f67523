import * as tf from '@tensorflow/tfjs-core';
import { gradsyncProgram, runCli } from '@gradsync/core/node';
import { intOption } from '@gradsync/train';
import { addComputeFlags, startComputeBackend } from './compute-flags';
import { loadExportedModel } from '../exported-model';
import { decodeImageFile, toModelInput } from '../image-decode';

/** One image's answer in `--json` output. */
interface ImagePrediction {
  file: string;
  width: number;
  height: number;
  top: { classIndex: number; className: string; probability: number }[];
}

await runCli(async () => {
  const program = gradsyncProgram('pnpm predict')
    .description('Classify images with a model a training run exported.')
    .requiredOption('--model <dir>', 'model folder (runs/<name>/model)')
    .requiredOption('--image <files...>', 'PNG or JPEG images, any size')
    .option('--top <k>', 'how many classes to show', intOption('--top', 1), 3)
    .option('--json', 'print one JSON document on stdout: per image its size and top classes with probabilities');
  addComputeFlags(program).parse();
  const o = program.opts();
  const backend = await startComputeBackend(o);
  const { model, metadata, shape } = await loadExportedModel(o.model);
  const classNames = Array.isArray(metadata.classNames) ? (metadata.classNames as string[]) : null;
  const results: ImagePrediction[] = [];
  for (const file of o.image as string[]) {
    const image = await decodeImageFile(file);
    const probs = tf.tidy(() => tf.softmax(model.predict(toModelInput(image, shape.inputShape)) as tf.Tensor2D));
    const p = Array.from(await probs.data());
    probs.dispose();
    const top = p
      .map((prob, cls) => ({ prob, cls }))
      .sort((a, b) => b.prob - a.prob)
      .slice(0, o.top);
    const result: ImagePrediction = {
      file,
      width: image.width,
      height: image.height,
      top: top.map(({ prob, cls }) => ({ classIndex: cls, className: classNames?.[cls] ?? `class ${cls}`, probability: prob })),
    };
    results.push(result);
    if (!o.json) {
      process.stdout.write(`${file} (${image.width}x${image.height})\n`);
      for (const t of result.top) process.stdout.write(`  ${t.className.padEnd(12)} ${(t.probability * 100).toFixed(1)}%\n`);
    }
  }
  if (o.json) process.stdout.write(`${JSON.stringify({ model: o.model, backend: backend.name, images: results }, null, 2)}\n`);
});
