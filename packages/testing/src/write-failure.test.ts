import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noteSkip } from '@gradsync/test-skips';
import { JsonlWriter, readJsonl, EpochsCsvWriter, RunMetricsFiles, TensorBoardWriter } from '@gradsync/metrics';
import { writeDirAtomically } from '@gradsync/train/node';
import { fillUp, mountTmpfs } from './index';
import { WriteFailure, writeFileNamed } from '@gradsync/core/node';

describe('WriteFailure', () => {
  it('a full disk: names the file and says so; anything else: names the file and quotes the error', () => {
    const full = new WriteFailure('/runs/r/metrics.jsonl', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    expect(full.message).toBe('cannot write /runs/r/metrics.jsonl: no space left on device (ENOSPC)');
    expect(full).toMatchObject({ code: 'E_DISK_FULL', diskFull: true, file: '/runs/r/metrics.jsonl' });
    const quota = new WriteFailure('/x', Object.assign(new Error('EDQUOT'), { code: 'EDQUOT' }));
    expect(quota.message).toBe('cannot write /x: disk quota exceeded (EDQUOT)');
    const denied = new WriteFailure('/x', Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: 'EACCES' }));
    expect(denied).toMatchObject({ code: 'E_WRITE', diskFull: false, message: "cannot write /x: EACCES: permission denied, open '/x'" });
  });
});

// A real full disk: a tmpfs of 64 KiB, filled up.
const fs = mountTmpfs(64 * 1024);
if (!fs.ok) noteSkip({ suite: 'writes on a full disk (packages/testing/src/write-failure.test.ts)', why: fs.why });
afterAll(() => fs.ok && fs.unmount());

describe.skipIf(!fs.ok)('on a full disk (a real tmpfs)', () => {
  const dir = fs.ok ? fs.dir : '';

  it('writeFileNamed names the file', async () => {
    fillUp(dir, 0);
    const err = await writeFileNamed(path.join(dir, 'big.bin'), Buffer.alloc(32 * 1024)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteFailure);
    expect((err as Error).message).toBe(`cannot write ${path.join(dir, 'big.bin')}: no space left on device (ENOSPC)`);
  });

  it('JsonlWriter: names metrics.jsonl and leaves no torn line behind', () => {
    fillUp(dir, 8 * 1024);
    const file = path.join(dir, 'metrics.jsonl');
    const writer = new JsonlWriter(file);
    writer.append({ kind: 'message', t: 1, level: 'info', text: 'first' });
    let err: unknown = null;
    try {
      for (let i = 0; i < 1000; i++) writer.append({ kind: 'message', t: i, level: 'info', text: 'x'.repeat(3000) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WriteFailure);
    expect((err as Error).message).toBe(`cannot write ${file}: no space left on device (ENOSPC)`);
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    expect(readJsonl(file).badLines).toEqual([]);
  });

  it('writeDirAtomically: names the final path, leaves neither the folder nor its temporary copy', async () => {
    fillUp(dir, 8 * 1024);
    const target = path.join(dir, 'checkpoints', '00000004');
    const err = await writeDirAtomically(target, (tmp) => writeFileNamed(path.join(tmp, 'state.bin'), Buffer.alloc(48 * 1024))).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`cannot write ${path.join(target, 'state.bin')}: no space left on device (ENOSPC)`);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(path.join(dir, 'checkpoints'))).toEqual([]);
  });

  it('RunMetricsFiles: whichever of metrics.jsonl, epochs.csv or the TensorBoard file runs out of room is named', () => {
    fillUp(dir, 16 * 1024);
    const runDir = path.join(dir, 'run');
    const files = new RunMetricsFiles(runDir);
    let err: unknown = null;
    try {
      for (let step = 0; step < 2000; step++) {
        files.append({ kind: 'step', t: step, step, epoch: 0, loss: 1, accuracy: 0.5, samples: 64, lr: 1e-3, imagesPerSec: 100, workers: [] });
        files.append({ kind: 'message', t: step, level: 'info', text: 'x'.repeat(200) });
      }
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WriteFailure);
    expect((err as WriteFailure).diskFull).toBe(true);
    expect((err as WriteFailure).file.startsWith(`${runDir}/`)).toBe(true);
    expect(readdirSync(runDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readJsonl(path.join(runDir, 'metrics.jsonl')).badLines).toEqual([]);
  });

  it('the TensorBoard writer and epochs.csv name their files too, and leave nothing half-written', () => {
    fillUp(dir, 0);
    const tbDir = path.join(dir, 'tb-full');
    const tb = (() => {
      try {
        return new TensorBoardWriter(tbDir);
      } catch (e) {
        return e;
      }
    })();
    expect(tb).toBeInstanceOf(WriteFailure);
    expect((tb as WriteFailure).file.startsWith(`${tbDir}/events.out.tfevents.`)).toBe(true);
    const csv = path.join(dir, 'epochs.csv');
    const failed = (() => {
      try {
        return new EpochsCsvWriter(csv, [{ kind: 'message', t: 1, level: 'info', text: 'x'.repeat(64 * 1024) }]);
      } catch (e) {
        return e;
      }
    })();
    expect(failed).toBeInstanceOf(WriteFailure);
    expect((failed as WriteFailure).message).toBe(`cannot write ${csv}: no space left on device (ENOSPC)`);
    expect(existsSync(`${csv}.tmp`)).toBe(false);
  });
});
