import type { EpochRecord, MetricRecord, RunRecord, StepRecord, WorkerRecord } from '@gradsync/metrics';

/** Small realistic records for unit tests. */
export const CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export function runRecord(over: Partial<RunRecord> = {}): RunRecord {
  return {
    kind: 'run',
    t: 1_000,
    runName: 'test-run',
    config: { epochs: 3, batchSize: 64, lr: 0.001 },
    classNames: CLASS_NAMES,
    trainCount: 640,
    validationCount: 100,
    testCount: 100,
    stepsPerEpoch: 10,
    ...over,
  };
}

export function workerRecord(rank: number, status: WorkerRecord['status'], t: number): WorkerRecord {
  return { kind: 'worker', t, rank, host: `host-${rank}`, pid: 100 + rank, backend: 'cpu', device: 'cpu', status };
}

/** One rank's part of a step record; `over` adds or replaces fields (usage, traffic). */
export function workerStep(rank: number, over: Partial<StepRecord['workers'][number]> = {}): StepRecord['workers'][number] {
  return { rank, loss: 2, correct: 4, count: 32, computeMs: 1, allreduceMs: 1, waitMs: 1, ...over };
}

export function stepRecord(step: number, over: Partial<StepRecord> = {}, ranks = [0, 1]): StepRecord {
  const spe = 10;
  return {
    kind: 'step',
    t: 2_000 + step * 500,
    step,
    epoch: Math.floor(step / spe),
    loss: 2.3 - step * 0.01,
    accuracy: 0.1 + step * 0.005,
    samples: 64,
    lr: 0.001,
    imagesPerSec: 128,
    workers: ranks.map((rank) => ({ rank, loss: 2, correct: 4, count: 64 / ranks.length, computeMs: 300, allreduceMs: 100, waitMs: 100 })),
    ...over,
  };
}

export function epochRecord(epoch: number, over: Partial<EpochRecord> = {}): EpochRecord {
  const confusion = new Array<number>(100).fill(0);
  for (let c = 0; c < 10; c++) {
    confusion[c * 10 + c] = 7;
    confusion[c * 10 + ((c + 1) % 10)] = 3;
  }
  return {
    kind: 'epoch',
    t: 2_000 + (epoch + 1) * 10 * 500 + 100,
    epoch,
    step: (epoch + 1) * 10,
    trainLoss: 2,
    trainAccuracy: 0.3,
    validation: { loss: 1.9, accuracy: 0.7, count: 100, confusion },
    test: null,
    lr: 0.001,
    nextLr: 0.001,
    durationSec: 5,
    imagesPerSec: 128,
    ...over,
  };
}

/** A run record, two workers joining, then `steps` steps with an epoch record after each 10. */
export function scriptedRun(steps: number): MetricRecord[] {
  const out: MetricRecord[] = [runRecord(), workerRecord(0, 'joining', 1_100), workerRecord(1, 'joining', 1_200)];
  for (let s = 0; s < steps; s++) {
    out.push(stepRecord(s));
    if ((s + 1) % 10 === 0) out.push(epochRecord(Math.floor(s / 10)));
  }
  return out;
}
