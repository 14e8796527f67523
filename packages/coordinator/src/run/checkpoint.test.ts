import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlateauState, type ReplicaState } from '@gradsync/train';
import { loadLatestCheckpoint, writeCheckpoint } from './checkpoint';

let runDir: string;
beforeAll(async () => {
  runDir = await mkdtemp(path.join(tmpdir(), 'gradsync-ckpt-'));
});
afterAll(() => rm(runDir, { recursive: true, force: true }));

function state(seed: number): ReplicaState {
  const f = (n: number, k: number) => new Float32Array(n).map((_, i) => seed * 1000 + k * 100 + i / 7);
  return { params: f(10, 1), state: f(3, 2), moments: { m: f(10, 3), v: f(10, 4), t: seed } };
}

describe('checkpoints', () => {
  it('round-trips weights, Adam state, LR schedule and sampler position', async () => {
    const plateau = { ...createPlateauState(1e-3), best: 1.5, wait: 2 };
    await writeCheckpoint(runDir, { runName: 'r', model: 'tiny-cnn', nextEpoch: 1, step: 10, plateau }, state(1));
    const ck = await loadLatestCheckpoint(runDir, () => {});
    expect(ck?.meta.nextEpoch).toBe(1);
    expect(ck?.meta.step).toBe(10);
    expect(ck?.meta.plateau).toEqual(plateau);
    expect(Array.from(ck!.state.params)).toEqual(Array.from(state(1).params));
    expect(Array.from(ck!.state.moments.v)).toEqual(Array.from(state(1).moments.v));
    expect(ck!.state.moments.t).toBe(1);
  });

  it('reports a truncated or corrupt newest checkpoint and falls back to the previous one', async () => {
    const plateau = createPlateauState(1e-3);
    const newer = await writeCheckpoint(runDir, { runName: 'r', model: 'tiny-cnn', nextEpoch: 2, step: 20, plateau }, state(2));
    await truncate(path.join(newer, 'state.bin'), 17);
    const warnings: string[] = [];
    const ck = await loadLatestCheckpoint(runDir, (w) => warnings.push(w));
    expect(ck?.meta.step).toBe(10);
    expect(warnings.join('\n')).toMatch(/00000020 skipped: .*state\.bin has 17 bytes, expected 132: truncated/);

    const bytes = await readFile(path.join(ck!.dir, 'state.bin'));
    bytes[5] ^= 0xff;
    await writeFile(path.join(ck!.dir, 'state.bin'), bytes);
    const none = await loadLatestCheckpoint(runDir, (w) => warnings.push(w));
    expect(none).toBeNull();
    expect(warnings.at(-1)).toMatch(/does not match its checksum: corrupt/);
  });

  it('leaves no temporary folders behind', async () => {
    const { readdir } = await import('node:fs/promises');
    const names = await readdir(path.join(runDir, 'checkpoints'));
    expect(names.every((n) => /^\d{8}$/.test(n))).toBe(true);
  });
});
