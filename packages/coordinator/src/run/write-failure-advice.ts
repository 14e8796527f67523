import { GradsyncError } from '@gradsync/core';
import { type WriteFailure } from '@gradsync/core/node';
import { loadLatestCheckpoint } from './checkpoint';

export interface GoodCheckpoint {
  dir: string;
  /** Epochs completed when it was taken. */
  nextEpoch: number;
  step: number;
}

/**
 * What to tell a user whose run stopped because a file could not be written (typically a full
 * disk): which file, that nothing was left half-written (checkpoints and the model are written
 * to a temporary folder and renamed; a torn metrics line is cut off), the newest checkpoint that
 * verifies, and the exact command that continues the run from it.
 */
export function writeFailureAdvice(o: { failure: WriteFailure; runDir: string; epochs: number; newest: GoodCheckpoint | null; resumeCommand: string }): string {
  const safe = o.newest
    ? `Nothing is half-written; the newest good checkpoint is ${o.newest.dir} (after epoch ${o.newest.nextEpoch} of ${o.epochs}, step ${o.newest.step}).`
    : 'Nothing is half-written, but no checkpoint had been written yet: resuming starts the run over.';
  const fix = o.failure.diskFull ? `Free space on the disk holding ${o.runDir}` : 'Fix that';
  return `${o.failure.message}. ${safe} ${fix}, then continue the run with: ${o.resumeCommand}`;
}

/** The failure as a GradsyncError carrying that advice, with the newest good checkpoint read from disk. */
export async function explainWriteFailure(failure: WriteFailure, o: { runDir: string; epochs: number; resumeCommand: string }): Promise<GradsyncError> {
  const newest = await loadLatestCheckpoint(o.runDir, () => {}).catch(() => null);
  const good = newest ? { dir: newest.dir, nextEpoch: newest.meta.nextEpoch, step: newest.meta.step } : null;
  return new GradsyncError(failure.code, writeFailureAdvice({ failure, ...o, newest: good }), { cause: failure });
}
