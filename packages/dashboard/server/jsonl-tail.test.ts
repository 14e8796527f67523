import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonlTail, parseRecordLine, resolveMetricsFile } from './jsonl-tail';

const line = (text: string, t = 1) => `${JSON.stringify({ kind: 'message', t, level: 'info', text })}\n`;

describe('metrics.jsonl reading', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gradsync-tail-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds metrics.jsonl in a run folder, or takes a file as given', () => {
    const run = path.join(dir, 'run-a');
    mkdirSync(run);
    writeFileSync(path.join(run, 'metrics.jsonl'), '');
    expect(resolveMetricsFile(run)).toBe(path.join(run, 'metrics.jsonl'));
    expect(resolveMetricsFile(path.join(run, 'metrics.jsonl'))).toBe(path.join(run, 'metrics.jsonl'));
  });

  it('says what is missing', () => {
    expect(() => resolveMetricsFile(path.join(dir, 'nope'))).toThrow(/does not exist/);
    expect(() => resolveMetricsFile(dir)).toThrow(/has no metrics.jsonl/);
  });

  it('skips corrupt lines and reports their numbers', () => {
    const file = path.join(dir, 'm.jsonl');
    writeFileSync(file, `${line('a')}{"kind":"message",\n\n[1,2]\n${line('b')}{"t":1}\n`);
    const r = new JsonlTail(file).read(true);
    expect(r.records.map((x) => (x as { text: string }).text)).toEqual(['a', 'b']);
    expect(r.badLines.map((b) => b.line)).toEqual([2, 4, 6]);
    expect(r.badLines[2].reason).toMatch(/kind/);
  });

  it('returns only complete new lines while the file grows', () => {
    const file = path.join(dir, 'm.jsonl');
    writeFileSync(file, line('a'));
    const tail = new JsonlTail(file);
    expect(tail.read().records).toHaveLength(1);
    const half = line('b');
    appendFileSync(file, half.slice(0, 10));
    expect(tail.read().records).toHaveLength(0);
    appendFileSync(file, half.slice(10) + line('c'));
    const r = tail.read();
    expect(r.records.map((x) => (x as { text: string }).text)).toEqual(['b', 'c']);
    expect(r.badLines).toEqual([]);
  });

  it('reads a last line without a newline when final, and starts over on a replaced file', () => {
    const file = path.join(dir, 'm.jsonl');
    writeFileSync(file, line('a') + line('b').trimEnd());
    const tail = new JsonlTail(file);
    expect(tail.read(true).records).toHaveLength(2);
    writeFileSync(file, line('z'));
    const r = tail.read();
    expect(r.restarted).toBe(true);
    expect(r.records).toHaveLength(1);
  });

  it('parseRecordLine wants an object with kind and t', () => {
    expect(parseRecordLine('{"kind":"end","t":5}')).toEqual({ kind: 'end', t: 5 });
    expect(() => parseRecordLine('"x"')).toThrow(/object/);
    expect(() => parseRecordLine('{"kind":"end"}')).toThrow(/"t"/);
  });
});
