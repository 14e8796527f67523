/**
 * A realistic, deterministic stream of metric records for dashboard tests: a CIFAR-10 run of the
 * tutorial's recipe on two GPU workers (the second a little slower), with noisy per-step loss
 * and accuracy, per-epoch validation with a plausible confusion matrix, and preview images from
 * the synthetic data set.
 */
import { SEED_RECIPE } from '@gradsync/train';
import { CIFAR10_CLASS_NAMES, IMAGE_BYTES, makeSyntheticCifar10 } from '@gradsync/data';
import type { EpochRecord, EvalSummary, MetricRecord, PreviewRecord, RunRecord, StepRecord, WorkerRecord } from '@gradsync/metrics';
import { mulberry32 } from '@gradsync/core';

export const STEPS_PER_EPOCH = 704;
export const VALIDATION_COUNT = 5000;
const BATCH = 64;
const STEP_MS = 44;
const EVAL_MS = 3500;

/** Validation loss/accuracy after each epoch (improving). */
const VALIDATION = [
  { loss: 1.47, accuracy: 0.47 },
  { loss: 1.2, accuracy: 0.575 },
  { loss: 1.05, accuracy: 0.632 },
  { loss: 0.96, accuracy: 0.668 },
];
/** How much easier (+) or harder (−) each CIFAR-10 class is than average. */
const CLASS_EASE = [0.05, 0.12, -0.12, -0.2, -0.05, -0.1, 0.1, 0.06, 0.1, 0.08];
/** The classical confusions: cat↔dog, automobile↔truck, airplane↔ship, deer↔horse, bird↔airplane. */
const LOOKALIKE: Record<number, number[]> = { 0: [8, 2], 1: [9], 2: [0, 4], 3: [5], 4: [7, 2], 5: [3], 6: [3], 7: [4, 5], 8: [0], 9: [1] };

export class ScriptedRun {
  readonly classNames = [...CIFAR10_CLASS_NAMES];
  private readonly random = mulberry32(20_240_611);
  private step = 0;
  private t: number;

  /** `endT`: when the last record of `plannedSteps` should be stamped (records carry real-looking times). */
  constructor(
    readonly runName = 'seed-cnn-2gpu',
    plannedSteps = 2300,
    endT = Date.now(),
  ) {
    const evals = Math.floor(plannedSteps / STEPS_PER_EPOCH);
    this.t = endT - plannedSteps * STEP_MS - evals * EVAL_MS - 2000;
  }

  /** Moves the clock so that the next step is stamped `t` (e.g. to end a scripted stretch at the real time). */
  resync(t: number): void {
    this.t = t - STEP_MS;
  }

  get currentStep(): number {
    return this.step;
  }

  start(): MetricRecord[] {
    const run: RunRecord = {
      kind: 'run',
      t: this.t,
      runName: this.runName,
      config: { ...SEED_RECIPE, runName: this.runName, allreduce: 'ring' } as unknown as Record<string, unknown>,
      classNames: this.classNames,
      trainCount: 45_000,
      validationCount: VALIDATION_COUNT,
      testCount: 10_000,
      stepsPerEpoch: STEPS_PER_EPOCH,
    };
    return [
      run,
      { kind: 'message', t: this.t + 10, level: 'info', text: 'data: cifar-10-binary.tar.gz (md5 ok), 45,000 train / 5,000 validation / 10,000 test' },
      this.worker(0, 'joining', this.t + 400),
      this.worker(1, 'joining', this.t + 650),
    ];
  }

  worker(rank: number, status: WorkerRecord['status'], t = this.t): WorkerRecord {
    return {
      kind: 'worker',
      t,
      rank,
      host: 'gpu-node-1',
      pid: 41_200 + rank,
      backend: 'tensorflow (tfjs-node-gpu)',
      device: `GPU ${rank} · NVIDIA H100 80GB`,
      status,
    };
  }

  /** The next `n` steps, with the epoch and preview records where an epoch ends. */
  steps(n: number): MetricRecord[] {
    const out: MetricRecord[] = [];
    for (let k = 0; k < n; k++) {
      out.push(this.nextStep());
      if (this.step % STEPS_PER_EPOCH === 0) out.push(...this.endEpoch());
    }
    return out;
  }

  private noise(scale: number): number {
    // Sum of uniforms: roughly normal.
    return (this.random() + this.random() + this.random() - 1.5) * scale;
  }

  private nextStep(): StepRecord {
    const s = this.step;
    const epoch = Math.floor(s / STEPS_PER_EPOCH);
    this.t += STEP_MS + this.noise(6);
    const loss = Math.max(0.05, 0.62 + 1.68 * Math.exp(-s / 650) + this.noise(0.22));
    const accuracy = Math.min(1, Math.max(0, 0.8 - 0.7 * Math.exp(-s / 700) + this.noise(0.12)));
    const stepMs = STEP_MS + this.noise(4);
    const workers = [0, 1].map((rank) => {
      const computeMs = (rank === 0 ? 27 : 32.5) + this.noise(2);
      const allreduceMs = 8.5 + this.noise(1.5);
      return {
        rank,
        loss: loss + this.noise(0.05),
        correct: Math.round(accuracy * 32),
        count: BATCH / 2,
        computeMs,
        allreduceMs,
        waitMs: Math.max(0.3, stepMs - computeMs - allreduceMs),
        // A tfjs-node-gpu process: one core mostly busy feeding the GPU, ~1.9 GiB resident, ~3 GiB of tensors on the GPU.
        cpuPercent: 96 + this.noise(8),
        rssBytes: Math.round((1.9 + rank * 0.05) * 2 ** 30),
        gpuBytes: Math.round((3.1 + this.noise(0.1)) * 2 ** 30),
        // A ring of two over the seed CNN's 660 KiB gradient: half of it out and half in, twice.
        sentBytes: 676_264 + 2 * 32,
        receivedBytes: 676_264 + 2 * 32,
      };
    });
    this.step++;
    return {
      kind: 'step',
      t: Math.round(this.t),
      step: s,
      epoch,
      loss,
      accuracy,
      samples: BATCH,
      lr: SEED_RECIPE.lr,
      imagesPerSec: (BATCH * 1000) / stepMs,
      workers,
    };
  }

  private endEpoch(): MetricRecord[] {
    const epoch = this.step / STEPS_PER_EPOCH - 1;
    this.t += EVAL_MS;
    const v = VALIDATION[Math.min(epoch, VALIDATION.length - 1)];
    const record: EpochRecord = {
      kind: 'epoch',
      t: Math.round(this.t),
      epoch,
      step: this.step,
      trainLoss: 0.62 + 1.68 * Math.exp(-(this.step - STEPS_PER_EPOCH / 2) / 650),
      trainAccuracy: 0.8 - 0.7 * Math.exp(-(this.step - STEPS_PER_EPOCH / 2) / 700),
      validation: this.evaluation(v.loss, v.accuracy),
      test: null,
      lr: SEED_RECIPE.lr,
      nextLr: SEED_RECIPE.lr,
      durationSec: (STEPS_PER_EPOCH * STEP_MS) / 1000,
      imagesPerSec: (BATCH * 1000) / STEP_MS,
    };
    return [record, this.preview(epoch, v.accuracy)];
  }

  /** A confusion matrix of VALIDATION_COUNT images whose accuracy is about `accuracy`. */
  evaluation(loss: number, accuracy: number): EvalSummary {
    const perClass = VALIDATION_COUNT / 10;
    const confusion = new Array<number>(100).fill(0);
    for (let r = 0; r < 10; r++) {
      const right = Math.round(perClass * Math.min(0.97, Math.max(0.1, accuracy + CLASS_EASE[r])));
      confusion[r * 10 + r] = right;
      let wrong = perClass - right;
      // Most mistakes go to the look-alike classes, the rest spread over the others.
      for (const c of LOOKALIKE[r]) {
        const k = Math.round(wrong * 0.35);
        confusion[r * 10 + c] += k;
        wrong -= k;
      }
      for (let i = 0; wrong > 0; i = (i + 1) % 10) {
        if (i === r) continue;
        const k = Math.min(wrong, 1 + Math.floor(this.random() * 6));
        confusion[r * 10 + i] += k;
        wrong -= k;
      }
    }
    const trace = confusion.reduce((acc, v, i) => acc + (i % 11 === 0 ? v : 0), 0);
    return { loss, accuracy: trace / VALIDATION_COUNT, count: VALIDATION_COUNT, confusion };
  }

  /** 16 synthetic validation images, about `accuracy` of them predicted right. */
  preview(epoch: number, accuracy: number): PreviewRecord {
    const data = makeSyntheticCifar10({ train: 0, test: 16, seed: 3 });
    const labels = Array.from(data.test.labels);
    const predictions = labels.map((label, i) => (this.random() < accuracy || i === 0 ? label : (LOOKALIKE[label][0] ?? (label + 1) % 10)));
    const confidences = predictions.map((p, i) => (p === labels[i] ? 0.55 + this.random() * 0.44 : 0.3 + this.random() * 0.4));
    return {
      kind: 'preview',
      t: Math.round(this.t) + 1,
      epoch,
      pixelsBase64: Buffer.from(data.test.images.subarray(0, 16 * IMAGE_BYTES)).toString('base64'),
      labels,
      predictions,
      confidences,
    };
  }
}
