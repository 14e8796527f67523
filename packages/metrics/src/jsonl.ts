import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { appendWhole } from '@gradsync/core/node';
import type { MetricRecord } from './records';

/** Appends one JSON object per line; synchronous so a crash never leaves half a record behind a buffer. */
export class JsonlWriter {
  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
  }

  /** Throws a WriteFailure naming the file; a line the disk had room for only part of is cut off again. */
  append(record: MetricRecord): void {
    appendWhole(this.file, `${JSON.stringify(record)}\n`);
  }
}

export interface JsonlReadResult {
  records: MetricRecord[];
  /** 1-based line numbers that were not valid JSON records, with the reason. */
  badLines: { line: number; reason: string }[];
}

/** Reads a metrics.jsonl, skipping (and reporting) corrupt lines such as a torn last line. */
export function readJsonl(file: string): JsonlReadResult {
  const records: MetricRecord[] = [];
  const badLines: { line: number; reason: string }[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (text.trim() === '') return;
      try {
        const r = JSON.parse(text) as MetricRecord;
        if (typeof r !== 'object' || r === null || typeof r.kind !== 'string') throw new Error('not a metric record');
        records.push(r);
      } catch (err) {
        badLines.push({ line: i + 1, reason: (err as Error).message });
      }
    });
  return { records, badLines };
}
