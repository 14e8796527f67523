import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COORDINATOR_CLI, endOf, epochs, readMetrics, runCli, startCliStreaming, syntheticDataDir, tempDir, WORKER_CLI } from './helpers/runs';

// The run's shared secret, with real processes: a coordinator with --token and workers presenting
// no token, a wrong one, the right one by flag and the right one by GRADSYNC_TOKEN.
let dataDir: string;
let runsDir: string;

beforeAll(async () => {
  dataDir = await syntheticDataDir(128, 32, 5);
  runsDir = tempDir('token-runs');
});

const noStack = (text: string) => expect(text).not.toMatch(/^\s{4}at /m);

describe('the run token', () => {
  it('a coordinator on a non-loopback address without a token refuses to start, in one line', async () => {
    const r = await runCli(COORDINATOR_CLI, ['--host', '0.0.0.0', '--port', '0', '--data-dir', dataDir, '--runs-dir', runsDir], {
      env: { GRADSYNC_TOKEN: '' }, // an empty variable is no token
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(2); // a usage error: the flags ask for something unsafe
    expect(r.stderr.trim().split('\n')).toEqual([
      'error: listening on 0.0.0.0 exposes the run beyond this machine: set a shared secret with --token or GRADSYNC_TOKEN',
    ]);
    noStack(r.stderr);
  }, 60_000);

  it('workers without the token or with a wrong one are refused with the reason; with it (flag or GRADSYNC_TOKEN) they train', async () => {
    const coordinator = startCliStreaming(COORDINATOR_CLI, [
      ...['--workers', '2', '--port', '0', '--data-dir', dataDir, '--validation', '0', '--epochs', '1', '--batch-size', '32'],
      ...['--model', 'tiny-cnn', '--runs-dir', runsDir, '--run-name', 'token', '--token', 's3cret'],
    ]);
    try {
      const url = (await coordinator.waitForLine(/workers connect to (ws:\/\/\S+)/))[1];
      const env = { GRADSYNC_TOKEN: '' };
      const [missing, wrong] = await Promise.all([
        runCli(WORKER_CLI, ['--coordinator', url, '--cpu'], { env, timeoutMs: 60_000 }),
        runCli(WORKER_CLI, ['--coordinator', url, '--cpu', '--token', 'S3CRET'], { env, timeoutMs: 60_000 }),
      ]);
      for (const [r, word] of [
        [missing, 'missing'],
        [wrong, 'wrong'],
      ] as const) {
        expect(r.code, r.stderr).toBe(1);
        const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(new RegExp(`4001.*refused: ${word} token \\(--token / GRADSYNC_TOKEN\\)`));
        noStack(r.stderr);
      }
      // The coordinator turned both away without giving them a rank, and said so.
      expect(coordinator.output()).toMatch(/connection \d+ from 127\.0\.0\.1:\d+: wrong token: refused: missing token/);
      expect(coordinator.output()).toMatch(/connection \d+ from 127\.0\.0\.1:\d+: wrong token: refused: wrong token/);
      expect(coordinator.output()).not.toMatch(/worker joined/);

      const [byFlag, byEnv] = await Promise.all([
        runCli(WORKER_CLI, ['--coordinator', url, '--cpu', '--token', 's3cret'], { env, timeoutMs: 120_000 }),
        runCli(WORKER_CLI, ['--coordinator', url, '--cpu'], { env: { GRADSYNC_TOKEN: 's3cret' }, timeoutMs: 120_000 }),
      ]);
      expect(byFlag.code, byFlag.stderr).toBe(0);
      expect(byEnv.code, byEnv.stderr).toBe(0);
      expect(await coordinator.exited).toEqual({ code: 0, signal: null });
      const records = readMetrics(path.join(runsDir, 'token'));
      expect(epochs(records)).toHaveLength(1);
      expect(endOf(records)?.status).toBe('completed');
    } finally {
      await coordinator.stop();
    }
  }, 180_000);
});
