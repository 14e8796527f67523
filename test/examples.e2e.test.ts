/**
 * The examples/ folder as a user runs it: the train() program with its in-process model function,
 * and the --model module with `gradsync start`, each training on 2 local worker processes.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { epochs, readMetrics, ROOT, runCli, startRun, steps, syntheticDataDir, tempDir } from './helpers/runs';

let dataDir: string;
beforeAll(async () => {
  dataDir = await syntheticDataDir(384, 64);
});

describe('examples/', () => {
  it('api/train.ts trains its model function through train() and reports each epoch and the exported model', async () => {
    const cwd = tempDir('example-api');
    const r = await runCli(path.join(ROOT, 'examples/api/train.ts'), [dataDir, '2'], { cwd, timeoutMs: 240_000 });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout.match(/^epoch \d: loss \d+\.\d{4}, test accuracy \d\.\d{4}$/gm)).toHaveLength(2);
    const modelDir = /exported model in (\S+)$/m.exec(r.stdout)?.[1];
    expect(modelDir).toBeDefined();
    expect(path.dirname(path.dirname(modelDir!))).toBe(path.join(cwd, 'runs'));
    expect(existsSync(path.join(modelDir!, 'model.json'))).toBe(true);
    const records = readMetrics(path.dirname(modelDir!));
    expect(epochs(records)).toHaveLength(2);
    for (const s of steps(records).filter((x) => x.hashes)) expect(new Set(s.hashes).size).toBe(1);
    expect(r.stderr).toMatch(/model: builder:tinyResidualNet \(\d+ parameters\)/);
  }, 300_000);

  it('cli/small-cnn.ts is a --model module gradsync start trains on 2 workers', async () => {
    const run = await startRun({
      dataDir,
      runsDir: tempDir('example-cli'),
      name: 'cli',
      args: ['--workers', '2', '--model', path.join(ROOT, 'examples/cli/small-cnn.ts'), '--epochs', '2', '--batch-size', '64', '--hash-every', '2'],
    });
    expect(epochs(run.records)).toHaveLength(2);
    const hashed = steps(run.records).filter((s) => s.hashes);
    expect(hashed.length).toBeGreaterThan(0);
    for (const s of hashed) expect(new Set(s.hashes).size).toBe(1);
  }, 300_000);
});
