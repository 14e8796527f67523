import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { GradsyncError } from '@gradsync/core';
import { writeFileNamed } from '@gradsync/core/node';
import { writeDirAtomically } from '@gradsync/train/node';
import type { PlateauState, ReplicaState } from '@gradsync/train';

/** What a run needs to continue exactly where it stopped (checkpoints are taken at epoch ends). */
export interface CheckpointMeta {
  format: 'gradsync-checkpoint-1';
  runName: string;
  model: string;
  /** Epochs completed; the next epoch to run. The sampler's position is (nextEpoch, step 0). */
  nextEpoch: number;
  /** Global steps completed. */
  step: number;
  plateau: PlateauState;
  adamT: number;
  sizes: { params: number; state: number };
  /** sha256 of state.bin, checked on load. */
  sha256: string;
  createdAt: string;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  state: ReplicaState;
  dir: string;
}

const STATE_FILE = 'state.bin';
const META_FILE = 'checkpoint.json';

function packState(s: ReplicaState): Buffer {
  return Buffer.concat([s.params, s.state, s.moments.m, s.moments.v].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

/** Writes checkpoints/<step>/ atomically: state.bin (weights, moving stats, Adam m and v) + checkpoint.json. */
export async function writeCheckpoint(
  runDir: string,
  meta: Omit<CheckpointMeta, 'format' | 'sha256' | 'createdAt' | 'sizes' | 'adamT'>,
  state: ReplicaState,
  extra?: (tmpDir: string) => Promise<void>,
): Promise<string> {
  const dir = path.join(runDir, 'checkpoints', String(meta.step).padStart(8, '0'));
  const bytes = packState(state);
  const full: CheckpointMeta = {
    format: 'gradsync-checkpoint-1',
    ...meta,
    adamT: state.moments.t,
    sizes: { params: state.params.length, state: state.state.length },
    sha256: createHash('sha256').update(bytes).digest('hex'),
    createdAt: new Date().toISOString(),
  };
  await writeDirAtomically(dir, async (tmp) => {
    await writeFileNamed(path.join(tmp, STATE_FILE), bytes);
    await writeFileNamed(path.join(tmp, META_FILE), `${JSON.stringify(full, null, 2)}\n`);
    await extra?.(tmp);
  });
  return dir;
}

async function readCheckpoint(dir: string): Promise<Checkpoint> {
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(await readFile(path.join(dir, META_FILE), 'utf8')) as CheckpointMeta;
  } catch (err) {
    throw new GradsyncError('E_CHECKPOINT', `${path.join(dir, META_FILE)} is missing or not JSON (${(err as Error).message})`);
  }
  if (meta.format !== 'gradsync-checkpoint-1') throw new GradsyncError('E_CHECKPOINT', `${dir}: unknown checkpoint format ${JSON.stringify(meta.format)}`);
  const bytes = await readFile(path.join(dir, STATE_FILE)).catch(() => {
    throw new GradsyncError('E_CHECKPOINT', `${path.join(dir, STATE_FILE)} is missing`);
  });
  const { params, state } = meta.sizes;
  const expected = (params * 3 + state) * 4;
  if (bytes.length !== expected)
    throw new GradsyncError('E_CHECKPOINT', `${path.join(dir, STATE_FILE)} has ${bytes.length} bytes, expected ${expected}: truncated`);
  if (createHash('sha256').update(bytes).digest('hex') !== meta.sha256)
    throw new GradsyncError('E_CHECKPOINT', `${path.join(dir, STATE_FILE)} does not match its checksum: corrupt`);
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let o = 0;
  const take = (n: number) => floats.slice(o, (o += n));
  return { meta, dir, state: { params: take(params), state: take(state), moments: { m: take(params), v: take(params), t: meta.adamT } } };
}

/**
 * The newest checkpoint that loads and verifies; a corrupt or partial one is reported through
 * `warn` and the one before it is used. Null when the run has none.
 */
export async function loadLatestCheckpoint(runDir: string, warn: (line: string) => void): Promise<Checkpoint | null> {
  const root = path.join(runDir, 'checkpoints');
  const names = (await readdir(root).catch(() => [] as string[]))
    .filter((n) => /^\d+$/.test(n))
    .sort()
    .reverse();
  for (const name of names) {
    try {
      return await readCheckpoint(path.join(root, name));
    } catch (err) {
      warn(`checkpoint ${name} skipped: ${(err as Error).message}`);
    }
  }
  return null;
}
