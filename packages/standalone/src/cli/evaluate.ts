import { gradsyncProgram, logInfo, runCli } from '@gradsync/core/node';
import { checkModelFitsData, intOption, evalSummary, evaluateModel, modelShapeFor, TEST_TIME_VIEWS, type TestTimeViews } from '@gradsync/train';
import { addDataReadOptions, dataReadOptionsFrom } from '@gradsync/train/node';
import { bytesPerImage, loadDataset } from '@gradsync/data';
import { Option } from 'commander';
import { addComputeFlags, startComputeBackend } from './compute-flags';
import { loadExportedModel } from '../exported-model';

/** One way of evaluating in `--json` output. */
interface EvaluationResult {
  views: TestTimeViews;
  accuracy: number;
  loss: number;
  count: number;
  seconds: number;
}

await runCli(async () => {
  const program = gradsyncProgram('pnpm evaluate')
    .description(
      'Test accuracy of a model a training run exported, on the CIFAR-10 test set: each image once, with its mirror image averaged, and over six views (mirror × three one-pixel shifts).',
    )
    .requiredOption('--model <dir>', 'model folder (runs/<name>/model)')
    .option('--data-dir <dir>', 'CIFAR-10 or CIFAR-100 binary files, or an image folder (default: CIFAR-10 from the cache, else download)')
    .option('--cache-dir <dir>', 'where a downloaded archive is kept (default: $XDG_CACHE_HOME/gradsync)')
    .option('--limit <n>', 'evaluate only the first N test images', intOption('--limit', 1))
    .addOption(
      new Option(
        '--views <which...>',
        "test-time augmentation levels to score: one (each image once), flip (with its mirror image), flip-translate (airbench's six views: the mirror pair, and the pairs shifted one pixel down-right and up-left, weighted 1/2, 1/4, 1/4)",
      )
        .choices(TEST_TIME_VIEWS)
        .default([...TEST_TIME_VIEWS]),
    )
    .option('--json', 'print one JSON document on stdout');
  addComputeFlags(addDataReadOptions(program)).parse();
  const o = program.opts();
  const backend = await startComputeBackend(o);
  const { model, shape } = await loadExportedModel(o.model);
  const [height, width, channels] = shape.inputShape;
  // An image folder is read at the model's size unless --image-size or --channels says otherwise.
  const data = await loadDataset({
    ...dataReadOptionsFrom(o),
    imageFallback: { height, width, channels: channels as 1 | 3 },
    dataDir: o.dataDir,
    cacheDir: o.cacheDir,
    log: logInfo,
  });
  checkModelFitsData(model, modelShapeFor(data));
  const count = Math.min(data.test.count, (o.limit as number | undefined) ?? data.test.count);
  const images = data.test.images.subarray(0, count * bytesPerImage(data.test));
  const labels = data.test.labels.subarray(0, count);
  const results: EvaluationResult[] = [];
  const how: Record<TestTimeViews, string> = {
    one: 'each image once',
    flip: 'with its mirror image averaged',
    'flip-translate': 'over six views (mirror × one-pixel shifts)',
  };
  for (const views of TEST_TIME_VIEWS.filter((v) => (o.views as TestTimeViews[]).includes(v))) {
    const started = performance.now();
    const summary = evalSummary(await evaluateModel(model, images, labels, { views }));
    const seconds = (performance.now() - started) / 1000;
    results.push({ views, accuracy: summary.accuracy, loss: summary.loss, count, seconds });
    if (!o.json) {
      process.stdout.write(
        `test accuracy ${(summary.accuracy * 100).toFixed(2)}% (loss ${summary.loss.toFixed(4)}) over ${count} images, ${how[views]} (${seconds.toFixed(1)} s)\n`,
      );
    }
  }
  model.dispose();
  if (o.json) process.stdout.write(`${JSON.stringify({ model: o.model, backend: backend.name, data: data.source, results }, null, 2)}\n`);
});
