import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import {
  augmentParamsFor,
  type RunConfig,
  whitenedStemNote,
  createPlateauState,
  evalSummary,
  gatherSamples,
  learningRateAt,
  plateauAfterEpoch,
  modelShapeFor,
  replicaForRun,
  trainingSplits,
} from '@gradsync/train';
import { networkForRun, writeRunConfigFile, saveLayersModel } from '@gradsync/train/node';
import { type Cifar10, epochPermutation, globalBatchIndices, stepsPerEpoch } from '@gradsync/data';
import { type EvalSummary, type MetricRecord, RunMetricsFiles } from '@gradsync/metrics';
import { EpochProgress } from '@gradsync/core/node';
import { ProcessUsageSampler } from '@gradsync/worker';

export interface LocalRunResult {
  runDir: string;
  validation: EvalSummary | null;
  test: EvalSummary;
  imagesPerSec: number;
  wallSec: number;
}

/**
 * A recipe in one process, no sockets: per-batch augmentation, the recipe's optimizer and
 * learning-rate schedule (the tutorial's: Adam, ReduceLROnPlateau on validation loss), test
 * accuracy at the end.
 */
export async function trainLocally(
  config: RunConfig,
  data: Cifar10,
  /** `backend`: the one selected, recorded as rank 0's worker record (the dashboard's worker table, the compare view's backend column). */
  options: { runsDir: string; log: (line: string) => void; backend?: { name: string; device: string } },
): Promise<LocalRunResult> {
  const runDir = path.join(options.runsDir, config.runName);
  mkdirSync(runDir, { recursive: true });
  await writeRunConfigFile(runDir, config);
  // metrics.jsonl, epochs.csv and tb/, the same files a distributed run writes.
  const metrics = new RunMetricsFiles(runDir);
  const emit = (r: MetricRecord) => metrics.append(r);

  const { train, validation } = trainingSplits(data.train, config);
  const steps = stepsPerEpoch(train.count, config.batchSize);
  emit({
    kind: 'run',
    t: Date.now(),
    runName: config.runName,
    config: config as unknown as Record<string, unknown>,
    classNames: data.classNames,
    trainCount: train.count,
    validationCount: validation.count,
    testCount: data.test.count,
    stepsPerEpoch: steps,
  });
  if (options.backend) {
    emit({
      kind: 'worker',
      t: Date.now(),
      rank: 0,
      host: hostname(),
      pid: process.pid,
      backend: options.backend.name,
      device: options.backend.device,
      status: 'training',
    });
  }
  options.log(`training ${config.model} on ${train.count} images (${validation.count} for validation, ${data.test.count} test), ${steps} steps/epoch`);

  const shape = modelShapeFor(data);
  const replica = replicaForRun(config, train, shape, await networkForRun(config.model, shape));
  if (config.whitenedStem) options.log(whitenedStemNote(train.count));
  let plateau = createPlateauState(config.lr);
  const totalSteps = steps * config.epochs;
  const lrAt = (step: number) => learningRateAt(config, step, totalSteps, plateau);
  const progress = new EpochProgress();
  const usage = new ProcessUsageSampler();
  const runStart = performance.now();
  let trainedImages = 0;
  let validationSummary: EvalSummary | null = null;
  let globalStep = 0;

  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const epochStart = performance.now();
    const perm = epochPermutation(config.seed, epoch, train.count);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    progress.start(`epoch ${epoch + 1}/${config.epochs}`, steps);
    for (let step = 0; step < steps; step++) {
      const stepStart = performance.now();
      const indices = globalBatchIndices(perm, step, config.batchSize);
      const batch = gatherSamples(train, indices);
      const augment = Array.from(indices, (i) => augmentParamsFor(config.augment, config.seed, epoch, i));
      // One process: synchronised BatchNorm's "group" is this process alone.
      const out = await replica.computeStep({ ...batch, augment }, config.syncBatchNorm ? async (data) => data : undefined);
      const lr = lrAt(globalStep);
      replica.applySummed(out.buffer, out.count, lr);
      const ms = performance.now() - stepStart;
      lossSum += out.loss * out.count;
      correct += out.correct;
      seen += out.count;
      trainedImages += out.count;
      const ips = (seen * 1000) / (performance.now() - epochStart);
      emit({
        kind: 'step',
        t: Date.now(),
        step: globalStep,
        epoch,
        loss: out.loss,
        accuracy: out.correct / out.count,
        samples: out.count,
        lr,
        imagesPerSec: (out.count * 1000) / ms,
        workers: [{ rank: 0, loss: out.loss, correct: out.correct, count: out.count, computeMs: ms, allreduceMs: 0, waitMs: 0, ...usage.sample() }],
      });
      globalStep++;
      progress.update(step + 1, { ips, loss: lossSum / seen, acc: correct / seen });
    }
    progress.stop();
    const epochSec = (performance.now() - epochStart) / 1000;
    validationSummary = validation.count > 0 ? evalSummary(await replica.evaluate(validation.images, validation.labels)) : null;
    const lr = lrAt(globalStep - 1);
    plateau = plateauAfterEpoch(config, plateau, validationSummary?.loss ?? null);
    const nextLr = lrAt(globalStep);
    emit({
      kind: 'epoch',
      t: Date.now(),
      epoch,
      step: globalStep,
      trainLoss: lossSum / seen,
      trainAccuracy: correct / seen,
      validation: validationSummary,
      test: null,
      lr,
      nextLr,
      durationSec: epochSec,
      imagesPerSec: seen / epochSec,
    });
    options.log(
      `epoch ${epoch + 1}/${config.epochs}: train loss ${(lossSum / seen).toFixed(4)} acc ${(correct / seen).toFixed(4)}` +
        (validationSummary ? ` | val loss ${validationSummary.loss.toFixed(4)} acc ${validationSummary.accuracy.toFixed(4)}` : '') +
        ` | ${(seen / epochSec).toFixed(1)} img/s | ${epochSec.toFixed(1)} s` +
        (config.schedule.kind === 'plateau' && nextLr !== lr ? ` | lr ${lr} -> ${nextLr}` : ''),
    );
  }

  const test = evalSummary(await replica.evaluate(data.test.images, data.test.labels));
  const wallSec = (performance.now() - runStart) / 1000;
  emit({ kind: 'end', t: Date.now(), status: 'completed', epochs: config.epochs, steps: globalStep, wallSec, test });
  await saveLayersModel(replica.model, path.join(runDir, 'model'), {
    classNames: data.classNames,
    input: 'float32 NHWC [n, 32, 32, 3], RGB scaled to [0, 1]',
    output: 'logits over classNames',
    config,
  });
  options.log(`test loss ${test.loss.toFixed(4)} accuracy ${test.accuracy.toFixed(4)} | model saved to ${path.join(runDir, 'model')}`);
  return { runDir, validation: validationSummary, test, imagesPerSec: trainedImages / wallSec, wallSec };
}
