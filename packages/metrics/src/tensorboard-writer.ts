import { mkdirSync } from 'node:fs';
import { appendWhole } from '@gradsync/core/node';
import os from 'node:os';
import path from 'node:path';
import type { MetricRecord } from './records';
import { tensorBoardScalars } from './tensorboard-scalars';
import { encodeEvent, eventFileName, FILE_VERSION, frameRecord, type TfEvent } from './tfevents';

/**
 * Appends a run's scalars to a new events file in `dir` (runs/<name>/tb), as TensorFlow's
 * summary writer does: one file per process, so a resumed run adds a file beside the old one.
 * Synchronous like metrics.jsonl: a crash loses no record that was appended.
 */
export class TensorBoardWriter {
  readonly file: string;
  private restartPending: boolean;

  /** `resumed`: the run has earlier records; the first new step marks a restart so TensorBoard drops the older events from that step on. */
  constructor(dir: string, options: { resumed?: boolean; nowMs?: number } = {}) {
    mkdirSync(dir, { recursive: true });
    const nowMs = options.nowMs ?? Date.now();
    this.file = path.join(dir, eventFileName(nowMs, os.hostname(), process.pid));
    this.restartPending = options.resumed ?? false;
    this.write({ wallTime: nowMs / 1000, step: 0, fileVersion: FILE_VERSION });
  }

  append(record: MetricRecord): void {
    const point = tensorBoardScalars(record);
    if (!point) return;
    if (this.restartPending) {
      this.write({ wallTime: point.wallTime, step: point.step, sessionStart: true });
      this.restartPending = false;
    }
    this.write(point);
  }

  /** Throws a WriteFailure naming the file; a record the disk had room for only part of is cut off again. */
  private write(event: TfEvent): void {
    appendWhole(this.file, frameRecord(encodeEvent(event)));
  }
}
