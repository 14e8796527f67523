/**
 * Checks a run folder's epochs.csv and tb/ against its metrics.jsonl. The event files are read by
 * an independent decoder (Python standard library), not by the writer's code.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { EpochRecord, MetricRecord } from '@gradsync/metrics';
import { expect } from 'vitest';
import { ROOT } from './runs';

const READER = path.join(ROOT, 'packages/metrics/src/test-support/read_tfevents.py');

export interface DecodedEvent {
  file: string;
  wall_time: number;
  step: number;
  file_version?: string;
  scalars?: Record<string, number>;
  session_log_status?: number;
}

export function readEventFiles(runDir: string): DecodedEvent[] {
  const dir = path.join(runDir, 'tb');
  const files = readdirSync(dir)
    .filter((f) => f.startsWith('events.out.tfevents.'))
    .sort()
    .map((f) => path.join(dir, f));
  return execFileSync('python3', [READER, ...files], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as DecodedEvent);
}

export function readEpochsCsv(runDir: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(path.join(runDir, 'epochs.csv'), 'utf8').trimEnd().split('\n');
  const names = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((cell, i) => [names[i], cell])));
}

const num = (cell: string) => (cell === '' ? null : Number(cell));

/** epochs.csv holds each epoch of metrics.jsonl once (its latest record), with the same figures. */
export function expectCsvMatchesJsonl(runDir: string, records: MetricRecord[]): void {
  const latest = new Map<number, EpochRecord>();
  for (const r of records) if (r.kind === 'epoch') latest.set(r.epoch, r);
  const rows = readEpochsCsv(runDir);
  expect(rows.map((r) => Number(r.epoch))).toEqual([...latest.keys()].sort((a, b) => a - b));
  for (const row of rows) {
    const e = latest.get(Number(row.epoch))!;
    expect(num(row.loss)).toBe(e.trainLoss);
    expect(num(row.accuracy)).toBe(e.trainAccuracy);
    expect(num(row.lr)).toBe(e.lr);
    expect(num(row.val_loss)).toBe(e.validation?.loss ?? null);
    expect(num(row.val_accuracy)).toBe(e.validation?.accuracy ?? null);
    expect(num(row.test_loss)).toBe(e.test?.loss ?? null);
    expect(num(row.test_accuracy)).toBe(e.test?.accuracy ?? null);
    expect(num(row.images_per_sec)).toBe(e.imagesPerSec);
    expect(num(row.epoch_sec)).toBe(e.durationSec);
  }
}

/** Every step's and epoch's figures of metrics.jsonl are in the event files, as float32, at the same step. */
export function expectEventsMatchJsonl(events: DecodedEvent[], records: MetricRecord[]): void {
  const scalarsAt = (tagPrefix: string) => {
    const m = new Map<number, Record<string, number>>();
    for (const e of events) if (e.scalars && Object.keys(e.scalars)[0]?.startsWith(tagPrefix)) m.set(e.step, e.scalars);
    return m;
  };
  const f = Math.fround;
  const stepEvents = scalarsAt('step/');
  const epochEvents = scalarsAt('epoch/');
  for (const r of records) {
    if (r.kind === 'step') {
      expect(stepEvents.get(r.step), `step ${r.step}`).toEqual({
        'step/loss': f(r.loss),
        'step/accuracy': f(r.accuracy),
        'step/lr': f(r.lr),
        'step/images_per_sec': f(r.imagesPerSec),
      });
    } else if (r.kind === 'epoch') {
      const got = epochEvents.get(r.step)!;
      expect(got['epoch/loss']).toBe(f(r.trainLoss));
      expect(got['epoch/accuracy']).toBe(f(r.trainAccuracy));
      expect(got['epoch/lr']).toBe(f(r.lr));
      expect(got['epoch/val_accuracy']).toBe(r.validation ? f(r.validation.accuracy) : undefined);
      expect(got['epoch/test_accuracy']).toBe(r.test ? f(r.test.accuracy) : undefined);
    } else if (r.kind === 'end' && r.test) {
      const final = events.find((e) => e.step === r.steps && e.scalars?.['final/test_accuracy'] !== undefined);
      expect(final?.scalars).toEqual({ 'final/test_loss': f(r.test.loss), 'final/test_accuracy': f(r.test.accuracy) });
    }
  }
}
