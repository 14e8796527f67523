import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tensorBoardScalars } from './tensorboard-scalars';
import { TensorBoardWriter } from './tensorboard-writer';
import { maskedCrc32c } from './tfevents';
import { sampleRun } from './test-support/records';

/** An independent reader (Python standard library: its own CRC32C and protobuf parsing). */
const READER = fileURLToPath(new URL('./test-support/read_tfevents.py', import.meta.url));

interface DecodedEvent {
  wall_time: number;
  step: number;
  file_version?: string;
  scalars?: Record<string, number>;
  session_log_status?: number;
}

function readEvents(dir: string): DecodedEvent[] {
  const files = readdirSync(dir)
    .sort()
    .map((f) => path.join(dir, f));
  return execFileSync('python3', [READER, ...files], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as DecodedEvent);
}

describe('TensorBoard event files', () => {
  it('masks the standard CRC32C check value the way TensorFlow does', () => {
    // CRC32C("123456789") = 0xe3069283 (the catalogued check value); the mask is TensorFlow's.
    const crc = 0xe3069283;
    expect(maskedCrc32c(Buffer.from('123456789'))).toBe((((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0);
  });

  it('holds the file version and then every step, epoch and final figure, readable by another decoder', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-'));
    const records = sampleRun(2, 3);
    const writer = new TensorBoardWriter(dir);
    for (const r of records) writer.append(r);
    expect(path.basename(writer.file)).toMatch(new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${os.hostname()}\\.${process.pid}$`));

    const [first, ...rest] = readEvents(dir);
    expect(first.file_version).toBe('brain.Event:2');
    const expected = records.map(tensorBoardScalars).filter((p) => p !== null);
    expect(rest).toHaveLength(expected.length);
    rest.forEach((event, i) => {
      expect(event.step).toBe(expected[i].step);
      expect(event.wall_time).toBe(expected[i].wallTime);
      // simple_value is a float32.
      expect(event.scalars).toEqual(Object.fromEntries(expected[i].scalars.map((s) => [s.tag, Math.fround(s.value)])));
    });
    const tags = new Set(rest.flatMap((e) => Object.keys(e.scalars ?? {})));
    for (const tag of ['step/loss', 'step/accuracy', 'step/lr', 'step/images_per_sec', 'epoch/val_accuracy', 'epoch/test_loss', 'final/test_accuracy'])
      expect(tags).toContain(tag);
  });

  it('marks a resumed run with a session start at its first new step', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-'));
    const records = sampleRun(1, 3).filter((r) => r.kind === 'step');
    const writer = new TensorBoardWriter(dir, { resumed: true });
    for (const r of records.slice(1)) writer.append(r);
    const events = readEvents(dir);
    expect(events[1]).toMatchObject({ step: 1, session_log_status: 1 });
    expect(events.slice(2).map((e) => e.step)).toEqual([1, 2]);
  });

  it('the reader rejects a file with a flipped byte (so the CRC check above can fail)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-'));
    const writer = new TensorBoardWriter(dir);
    for (const r of sampleRun(1, 2)) writer.append(r);
    const bytes = readFileSync(writer.file);
    bytes[bytes.length - 10] ^= 0x40;
    writeFileSync(writer.file, bytes);
    const run = spawnSync('python3', [READER, writer.file], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/bad data CRC/);
  });
});
