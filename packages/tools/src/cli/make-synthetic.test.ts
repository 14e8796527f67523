import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCifar10Binary, makeSyntheticCifar10 } from '@gradsync/data';

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const cli = resolve(here, 'make-synthetic.ts');
const tsx = resolve(here, '../../../../node_modules/.bin/tsx');

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tsx, [cli, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gradsync-cli-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('make-synthetic CLI', () => {
  it('writes a set that reads back as the generator made it', async () => {
    const out = join(root, 'set');
    const result = await runCli(['--out', out, '--train', '12', '--test', '3', '--seed', '5', '--gzip']);
    expect(result.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual([
      'batches.meta.txt',
      'data_batch_1.bin.gz',
      'data_batch_2.bin.gz',
      'data_batch_3.bin.gz',
      'data_batch_4.bin.gz',
      'data_batch_5.bin.gz',
      'test_batch.bin.gz',
    ]);
    const got = await readCifar10Binary(out);
    const want = makeSyntheticCifar10({ train: 12, test: 3, seed: 5 });
    expect(Buffer.compare(got.train.images, want.train.images)).toBe(0);
    expect(Buffer.compare(got.test.labels as Uint8Array, want.test.labels as Uint8Array)).toBe(0);
  }, 30_000);

  it('prints one line and exits non-zero on a bad number or an unknown flag', async () => {
    const [bad, unknown] = await Promise.all([
      runCli(['--out', join(root, 'x'), '--train', '12x', '--test', '3']),
      runCli(['--out', join(root, 'x'), '--train', '12', '--test', '3', '--colour']),
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^error: option '--train <n>' argument '12x' is invalid/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim()).toBe("error: unknown option '--colour'");
  }, 30_000);
});
