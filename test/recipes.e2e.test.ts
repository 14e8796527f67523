import { readFileSync } from 'node:fs';
import path from 'node:path';
import { nodeBackendHost } from '@gradsync/backends';
import { IMPROVED_RECIPE, patchMoments, whiteningStem, scheduledLr } from '@gradsync/train';
import { IMAGE_BYTES, makeSyntheticCifar10 } from '@gradsync/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { endOf, exportedWeights, maxAbsDiff, steps, useSyntheticRuns } from './helpers/runs';

const oneDnnHere = nodeBackendHost.loadOneDnn().ok;

// Real processes and sockets: `pnpm start` spawns a coordinator and worker processes on loopback.
const { start } = useSyntheticRuns(beforeAll);

describe('recipes in a distributed run', () => {
  it('--recipe improved: config.json holds the preset with the flags over it, and every step runs at the one-cycle rate', async () => {
    const run = await start('improved2', ['--recipe', 'improved', '--model', 'tiny-cnn', '--epochs', '2', '--workers', '2']);
    const config = JSON.parse(readFileSync(path.join(run.runDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ ...IMPROVED_RECIPE, model: 'tiny-cnn', epochs: 2, runName: 'improved2', validationCount: 128 });
    // 640 images in batches of the preset's size, for 2 epochs.
    const total = 2 * Math.ceil(640 / IMPROVED_RECIPE.batchSize);
    const st = steps(run.records);
    expect(st.map((s) => s.step)).toEqual(Array.from({ length: total }, (_, i) => i));
    st.forEach((s) => expect(s.lr, `step ${s.step}`).toBeCloseTo(scheduledLr(IMPROVED_RECIPE.schedule, IMPROVED_RECIPE.lr, s.step, total), 12));
    expect(endOf(run.records)?.status).toBe('completed');
  });

  it.skipIf(!oneDnnHere)('--sync-bn: two workers over the ring stay identical at every step, BatchNorm statistics included', async () => {
    const run = await start('syncbn2', ['--model', 'seed-cnn', '--sync-bn', '--epochs', '1', '--workers', '2', '--allreduce', 'ring', '--hash-every', '1']);
    const st = steps(run.records);
    expect(st).toHaveLength(10);
    for (const s of st) {
      expect(s.hashes).toHaveLength(2);
      expect(new Set(s.hashes).size).toBe(1);
    }
    expect(run.records.some((r) => r.kind === 'message' && r.level === 'error')).toBe(false);
    expect(JSON.parse(readFileSync(path.join(run.runDir, 'config.json'), 'utf8')).syncBatchNorm).toBe(true);
    expect(endOf(run.records)?.status).toBe('completed');
  });

  it.skipIf(!oneDnnHere)(
    "--whiten-stem: the coordinator whitens airbench's stem from the training images, both workers start from it and it stays frozen",
    async () => {
      const run = await start('whiten2', [
        '--recipe',
        'airbench',
        '--whiten-stem',
        '--batch-size',
        '64',
        '--epochs',
        '1',
        '--workers',
        '2',
        '--hash-every',
        '1',
      ]);
      // useSyntheticRuns' data (768 images, seed 3), of which the first 640 train.
      const train = makeSyntheticCifar10({ train: 768, test: 128, seed: 3 }).train.images.subarray(0, 640 * IMAGE_BYTES);
      const expected = whiteningStem(patchMoments(train, 640)).kernel;
      expect(run.stdout + run.stderr).toContain("stem whitened from the first 640 training images' 2×2 patches");
      const st = steps(run.records);
      expect(st).toHaveLength(10);
      for (const s of st) expect(new Set(s.hashes).size, `step ${s.step}`).toBe(1);
      // The exported model's stem kernel, found by its shape in the weights manifest.
      const manifest = JSON.parse(readFileSync(path.join(run.runDir, 'model', 'model.json'), 'utf8')) as {
        weightsManifest: { weights: { name: string; shape: number[] }[] }[];
      };
      const entries = manifest.weightsManifest.flatMap((g) => g.weights);
      const at = entries.findIndex((w) => w.shape.join() === '2,2,3,24');
      expect(at).toBeGreaterThanOrEqual(0);
      const offset = entries.slice(0, at).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
      const stem = exportedWeights(run.runDir).subarray(offset, offset + expected.length);
      // Equal up to the rounding of averaging the workers' (identical) state with unequal batch shares.
      expect(maxAbsDiff(stem, expected)).toBeLessThan(1e-5);
      expect(JSON.parse(readFileSync(path.join(run.runDir, 'config.json'), 'utf8')).whitenedStem).toBe(true);
      expect(endOf(run.records)?.status).toBe('completed');
    },
  );
});
