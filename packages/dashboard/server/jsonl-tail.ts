import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { GradsyncError } from '@gradsync/core';
import type { MetricRecord } from '@gradsync/metrics';

export interface BadLine {
  /** 1-based line number in the file. */
  line: number;
  reason: string;
}

export interface TailRead {
  records: MetricRecord[];
  badLines: BadLine[];
  /** The file got shorter than what was read: it was replaced, and reading started over. */
  restarted: boolean;
}

/** The metrics file a `pnpm dashboard` argument names: a run folder (its metrics.jsonl) or the file itself. */
export function resolveMetricsFile(target: string): string {
  let stat;
  try {
    stat = statSync(target);
  } catch {
    throw new GradsyncError('E_NO_METRICS', `${target} does not exist (give a run folder such as runs/<name>, or its metrics.jsonl)`);
  }
  if (!stat.isDirectory()) return target;
  const file = path.join(target, 'metrics.jsonl');
  try {
    if (statSync(file).isFile()) return file;
  } catch {
    // reported below
  }
  throw new GradsyncError('E_NO_METRICS', `${target} has no metrics.jsonl (is it a run folder? runs are written to runs/<name>/)`);
}

/** One metric record from one line; throws with the reason when it is not one. */
export function parseRecordLine(text: string): MetricRecord {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
  const r = value as { kind?: unknown; t?: unknown };
  if (typeof r.kind !== 'string') throw new Error('no "kind" field');
  if (typeof r.t !== 'number') throw new Error('no numeric "t" field');
  return value as MetricRecord;
}

/**
 * Reads a metrics.jsonl that may still be growing: each `read` returns the complete lines
 * added since the last one (a line still being written waits for its newline). Corrupt lines
 * are returned with their line numbers instead of stopping the read.
 */
export class JsonlTail {
  private offset = 0;
  private line = 0;

  constructor(readonly file: string) {}

  /** New complete lines; with `final`, also a last line that has no newline (the file is finished). */
  read(final = false): TailRead {
    const fd = openSync(this.file, 'r');
    let buf: Buffer;
    let restarted = false;
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) {
        this.offset = 0;
        this.line = 0;
        restarted = true;
      }
      buf = Buffer.alloc(size - this.offset);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
      buf = buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
    const end = final ? buf.length : buf.lastIndexOf(0x0a) + 1;
    this.offset += end;
    const records: MetricRecord[] = [];
    const badLines: BadLine[] = [];
    const text = buf.subarray(0, end).toString('utf8');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const raw of lines) {
      this.line++;
      const lineText = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (lineText.trim() === '') continue;
      try {
        records.push(parseRecordLine(lineText));
      } catch (err) {
        badLines.push({ line: this.line, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    return { records, badLines, restarted };
  }
}
