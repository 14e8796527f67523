import { describe, expect, it } from 'vitest';
import { epochRecord, runRecord, scriptedRun, stepRecord, workerRecord, workerStep } from './fixtures';
import { RunState, WORKER_WINDOW, workerImagesPerSec } from './run-state';

function stateOf(records = scriptedRun(25)): RunState {
  const s = new RunState();
  for (const r of records) s.apply(r);
  return s;
}

describe('RunState: records → series', () => {
  it('appends one entry per step to every step series', () => {
    const s = stateOf();
    expect(s.steps.step).toHaveLength(25);
    expect(s.steps.loss[3]).toBeCloseTo(2.27);
    expect(s.steps.epoch[24]).toBe(2);
    expect(s.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(s.records).toBe(3 + 25 + 2);
  });

  it('keeps per-worker img/s aligned with the steps, null before a rank joined', () => {
    const s = new RunState();
    s.apply(runRecord());
    s.apply(stepRecord(0, {}, [0]));
    s.apply(stepRecord(1, {}, [0, 1]));
    s.apply(stepRecord(2, {}, [1]));
    expect(s.steps.workerImagesPerSec.get(0)).toEqual([128, 64, null]);
    expect(s.steps.workerImagesPerSec.get(1)).toEqual([null, 64, 128]);
  });

  it('replaces later points when a step number goes back (resumed from a checkpoint)', () => {
    const s = stateOf(scriptedRun(25));
    const before = s.revision;
    s.apply(stepRecord(15, { loss: 9 }));
    expect(s.steps.step).toEqual([...Array(15).keys(), 15]);
    expect(s.steps.loss[15]).toBe(9);
    expect(s.epochs.map((e) => e.epoch)).toEqual([0]);
    expect(s.revision).toBeGreaterThan(before);
    expect(s.steps.workerImagesPerSec.get(0)).toHaveLength(16);
  });

  it('resets on a run record with another name, not on the same run again', () => {
    const s = stateOf();
    s.apply(runRecord());
    expect(s.steps.step).toHaveLength(25);
    s.apply(runRecord({ runName: 'other' }));
    expect(s.steps.step).toHaveLength(0);
    expect(s.run?.runName).toBe('other');
  });

  it('is running again when a run that ended is resumed', () => {
    const s = stateOf(scriptedRun(25));
    s.apply({ kind: 'end', t: 50_000, status: 'failed', reason: 'worker lost', epochs: 2, steps: 25, wallSec: 12, test: null });
    s.apply(runRecord({ t: 60_000 }));
    expect(s.end).toBeNull();
    s.apply({ kind: 'end', t: 61_000, status: 'stopped', epochs: 2, steps: 25, wallSec: 12, test: null });
    s.apply(stepRecord(20, { t: 70_000 }));
    expect(s.end).toBeNull();
    expect(s.steps.step.at(-1)).toBe(20);
    expect(s.workerViews()[0].status).toBe('training');
  });

  it('reports which sections changed', () => {
    const s = stateOf();
    s.takeDirty();
    s.apply(stepRecord(25));
    expect([...s.takeDirty()].sort()).toEqual(['steps', 'workers']);
    expect(s.takeDirty().size).toBe(0);
  });

  it('keeps the latest evaluation for the confusion matrix, the final test last', () => {
    const s = stateOf();
    expect(s.latestEval).toMatchObject({ source: 'validation', epoch: 1 });
    const test = { loss: 1, accuracy: 0.8, count: 10, confusion: new Array(100).fill(0) };
    s.apply({ kind: 'end', t: 99_999, status: 'completed', epochs: 3, steps: 30, wallSec: 20, test });
    expect(s.latestEval).toMatchObject({ source: 'test', epoch: null });
  });
});

describe('RunState: workers', () => {
  it('goes joining → training on the first step, gone on a gone record', () => {
    const s = new RunState();
    s.apply(runRecord());
    s.apply(workerRecord(0, 'joining', 1_000));
    expect(s.workerViews()[0]).toMatchObject({ rank: 0, status: 'joining', host: 'host-0', imagesPerSec: null });
    s.apply(stepRecord(0, {}, [0]));
    expect(s.workerViews()[0].status).toBe('training');
    s.apply({ ...workerRecord(0, 'gone', 9_000), reason: 'connection lost' });
    expect(s.workerViews()[0]).toMatchObject({ status: 'gone', reason: 'connection lost', lastSeen: 9_000 });
  });

  it('shows every worker gone once the run has ended', () => {
    const s = stateOf(scriptedRun(5));
    expect(s.workerViews().map((w) => w.status)).toEqual(['training', 'training']);
    s.apply({ kind: 'end', t: 99_999, status: 'completed', epochs: 1, steps: 5, wallSec: 3, test: null });
    expect(s.workerViews().map((w) => [w.status, w.reason])).toEqual([
      ['gone', 'the run completed'],
      ['gone', 'the run completed'],
    ]);
  });

  it('shows a rank known only from steps (a local run) as training', () => {
    const s = new RunState();
    s.apply(stepRecord(0, {}, [0]));
    expect(s.workerViews()).toMatchObject([{ rank: 0, status: 'training', host: null }]);
  });

  it('keeps the latest CPU and memory figures; none from a worker that never sent them', () => {
    const s = new RunState();
    const usage = (rank: number, cpuPercent: number, rssBytes: number, gpuBytes?: number) => workerStep(rank, { cpuPercent, rssBytes, gpuBytes });
    s.apply(stepRecord(0, { workers: [usage(0, 90, 100), usage(1, 50, 200, 7)] }));
    s.apply(stepRecord(1, { workers: [usage(0, 120, 300)] }));
    s.apply(stepRecord(2, { workers: [workerStep(2)] }));
    expect(s.workerViews().map((w) => w.usage)).toEqual([
      { cpuPercent: 120, rssBytes: 300, gpuBytes: null },
      { cpuPercent: 50, rssBytes: 200, gpuBytes: 7 },
      null,
    ]);
  });

  it('keeps the latest all-reduce traffic of each rank; none from a worker that never sent it', () => {
    const s = new RunState();
    const step = (rank: number, wire?: { sentBytes: number; receivedBytes: number }) => workerStep(rank, wire);
    s.apply(stepRecord(0, { workers: [step(0, { sentBytes: 10, receivedBytes: 20 }), step(1)] }));
    s.apply(stepRecord(1, { workers: [step(0, { sentBytes: 30, receivedBytes: 40 }), step(1)] }));
    expect(s.workerViews().map((w) => w.wire)).toEqual([{ sentBytes: 30, receivedBytes: 40 }, null]);
  });

  it('averages img/s and the time split over recent steps, last heartbeat from the newest record', () => {
    const s = stateOf(scriptedRun(5));
    const [w0] = s.workerViews();
    expect(w0.imagesPerSec).toBeCloseTo(64);
    expect(w0.split).toEqual({ computeMs: 300, allreduceMs: 100, waitMs: 100 });
    expect(w0.lastSeen).toBe(stepRecord(4).t);
    expect(w0.steps).toBe(5);
  });

  it('slides the averaging window over the last WORKER_WINDOW steps', () => {
    const s = new RunState();
    for (let i = 0; i < 30; i++) {
      const r = stepRecord(i, {}, [0]);
      r.workers[0].computeMs = i;
      s.apply(r);
    }
    expect(WORKER_WINDOW).toBe(20);
    expect(s.workerViews()[0].split?.computeMs).toBeCloseTo(19.5); // mean of 10..29
  });

  it("shows each rank's share of the latest step, and who held that step back", () => {
    const s = new RunState();
    const w = (rank: number, count: number, computeMs: number, share?: number) => ({
      rank,
      loss: 1,
      correct: 0,
      count,
      computeMs,
      allreduceMs: 1,
      waitMs: 1,
      ...(share === undefined ? {} : { share }),
    });
    s.apply(stepRecord(0, { samples: 64, workers: [w(0, 32, 50), w(1, 32, 150)] }));
    expect(s.workerViews().map((v) => v.share)).toEqual([0.5, 0.5]);
    expect(s.straggler).toMatchObject({ step: 0, rank: 1, heldMs: 100 });
    s.apply(stepRecord(1, { samples: 64, workers: [w(0, 48, 90, 0.75), w(1, 16, 80, 0.25)] }));
    expect(s.workerViews().map((v) => v.share)).toEqual([0.75, 0.25]);
    expect(s.straggler).toMatchObject({ step: 1, rank: 0, computeMs: 90, othersMs: 80, share: 0.75 });
    s.apply(stepRecord(2, { samples: 64, workers: [w(0, 64, 90)] }));
    expect(s.straggler).toBeNull();
  });

  it('workerImagesPerSec falls back to the share of the global rate without timings', () => {
    const w = { rank: 0, loss: 1, correct: 1, count: 16, computeMs: 0, allreduceMs: 0, waitMs: 0 };
    expect(workerImagesPerSec(w, { samples: 64, imagesPerSec: 200 })).toBe(50);
  });
});

describe('RunState: progress input', () => {
  it('counts steps into the epoch in progress', () => {
    const p = stateOf(scriptedRun(25)).progressInput();
    expect(p).toMatchObject({ stepsPerEpoch: 10, epochs: 3, epochIndex: 2, stepsIntoEpoch: 5, epochsFinished: 2 });
    expect(p?.stepsPerSec).toBeCloseTo(2);
  });

  it('moves to the next epoch when the epoch record is the newest', () => {
    const p = stateOf(scriptedRun(20)).progressInput();
    expect(p).toMatchObject({ epochIndex: 2, stepsIntoEpoch: 0, epochsFinished: 2 });
  });

  it('shows the last epoch full when all are done', () => {
    const s = stateOf(scriptedRun(30));
    s.apply(epochRecord(2));
    expect(s.progressInput()).toMatchObject({ epochIndex: 2, stepsIntoEpoch: 10, epochsFinished: 3 });
  });
});
