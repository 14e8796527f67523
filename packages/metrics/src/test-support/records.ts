import type { EndRecord, EpochRecord, EvalSummary, MetricRecord, StepRecord } from '../records';

const evalOf = (loss: number, accuracy: number): EvalSummary => ({ loss, accuracy, count: 100, confusion: [] });

/** A small, varied run: `epochs` epochs of `stepsPerEpoch` steps, validation and test every epoch, and an end. */
export function sampleRun(epochs: number, stepsPerEpoch: number, t0 = 1_700_000_000_000): MetricRecord[] {
  const out: MetricRecord[] = [
    { kind: 'run', t: t0, runName: 'r', config: {}, classNames: [], trainCount: 10, validationCount: 5, testCount: 5, stepsPerEpoch },
  ];
  let step = 0;
  for (let e = 0; e < epochs; e++) {
    for (let s = 0; s < stepsPerEpoch; s++, step++) {
      const r: StepRecord = {
        kind: 'step',
        t: t0 + 1000 * step + 500,
        step,
        epoch: e,
        loss: 2.3 / (step + 1),
        accuracy: 0.1 + step / 97,
        samples: 32,
        lr: 0.001 / (e + 1),
        imagesPerSec: 400 + step * 3.7,
        workers: [],
      };
      out.push(r);
    }
    const epoch: EpochRecord = {
      kind: 'epoch',
      t: t0 + 1000 * step + 700,
      epoch: e,
      step,
      trainLoss: 1.9 - e * 0.3,
      trainAccuracy: 0.3 + e * 0.11,
      validation: evalOf(1.7 - e * 0.2, 0.35 + e * 0.1),
      test: e % 2 ? null : evalOf(1.8 - e * 0.2, 0.33 + e * 0.1),
      lr: 0.001 / (e + 1),
      nextLr: 0.001 / (e + 2),
      durationSec: 3.25 + e,
      imagesPerSec: 512.5 + e,
    };
    out.push(epoch);
  }
  const end: EndRecord = { kind: 'end', t: t0 + 1000 * step + 900, status: 'completed', epochs, steps: step, wallSec: step, test: evalOf(1.1, 0.61) };
  out.push(end);
  return out;
}
