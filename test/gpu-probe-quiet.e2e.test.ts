import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { noteSkip } from '@gradsync/test-skips';
import { localGpuDeviceNodes } from '@gradsync/backend-webgpu';
import { ROOT, runCli, syntheticDataDir, tempDir } from './helpers/runs';

// `pnpm train --gpu 0` on a machine without a GPU: the error says why, and Dawn's native
// "artificially reduced" warnings (written to fd 2 from C++ when it brings up llvmpipe) are absent.
const TRAIN_CLI = path.join(ROOT, 'packages/standalone/src/cli/train.ts');
const nodes = localGpuDeviceNodes();
const hasGpu = nodes == null || nodes.length > 0;
if (hasGpu)
  noteSkip({
    suite: 'the quiet webgpu probe without a GPU (test/gpu-probe-quiet.e2e.test.ts)',
    why: `this machine has a GPU (${nodes?.join(', ') ?? 'not Linux'})`,
  });

describe.skipIf(hasGpu)('asking for a GPU on a machine without one', () => {
  it('fails saying there is no GPU, without Dawn printing its warnings', async () => {
    const data = await syntheticDataDir(96, 16, 2);
    const r = await runCli(TRAIN_CLI, [
      '--data-dir',
      data,
      '--epochs',
      '1',
      '--limit-train',
      '64',
      '--validation',
      '16',
      '--model',
      'tiny-cnn',
      '--runs-dir',
      tempDir('gpu-probe'),
      '--gpu',
      '0',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/webgpu - no GPU on this machine \(none of \/dev\/nvidia\*, \/dev\/dri\/renderD\*, \/dev\/dxg exists\), so Dawn was not asked/);
    expect(r.stderr).not.toMatch(/artificially reduced|^Warning:/m);
  });
});
