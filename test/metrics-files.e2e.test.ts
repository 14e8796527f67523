import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCsvMatchesJsonl, expectEventsMatchJsonl, readEventFiles } from './helpers/metrics-files';
import { endOf, epochs, readMetrics, runCli, ROOT, steps, syntheticDataDir, tempDir } from './helpers/runs';

const TRAIN_CLI = path.join(ROOT, 'packages/standalone/src/cli/train.ts');

describe('metric files of a run', () => {
  it('pnpm train writes epochs.csv and TensorBoard events that agree with metrics.jsonl', async () => {
    const dataDir = await syntheticDataDir(320, 64);
    const runsDir = tempDir('runs');
    const result = await runCli(TRAIN_CLI, [
      ...['--data-dir', dataDir, '--runs-dir', runsDir, '--run-name', 'local', '--model', 'tiny-cnn'],
      ...['--epochs', '2', '--batch-size', '64', '--validation', '64', '--backend', 'wasm'],
    ]);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    const runDir = path.join(runsDir, 'local');
    const records = readMetrics(runDir);
    expect(epochs(records)).toHaveLength(2);
    expectCsvMatchesJsonl(runDir, records);

    const events = readEventFiles(runDir);
    expect(events[0].file_version).toBe('brain.Event:2');
    expect(events.filter((e) => e.scalars?.['step/loss'] !== undefined)).toHaveLength(steps(records).length);
    expect(endOf(records)?.test).not.toBeNull();
    expectEventsMatchJsonl(events, records);
  }, 300_000);
});
