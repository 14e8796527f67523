import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A small tmpfs of its own, for tests of a full disk; or why one could not be had (mount needs root). */
export type Tmpfs = { ok: true; dir: string; unmount(): void } | { ok: false; why: string };

export function mountTmpfs(sizeBytes: number): Tmpfs {
  const dir = mkdtempSync(path.join(tmpdir(), 'gradsync-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    const said = (r.stderr || r.error?.message || `exit ${r.status}`).trim();
    return { ok: false, why: `cannot mount a ${sizeBytes}-byte tmpfs (needs root): ${said}` };
  }
  return {
    ok: true,
    dir,
    unmount() {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Fills the file system holding `dir` (with `dir`/filler) but for about `leave` bytes; delete the
 * filler to free it. It only ever appends, then shrinks: a process writing to the same disk at the
 * same time (the run under test) can never take back space the filler let go of for a moment.
 */
export function fillUp(dir: string, leave = 0): void {
  const fd = openSync(path.join(dir, 'filler'), 'a');
  try {
    let size = fstatSync(fd).size;
    for (let chunk = 1 << 24; chunk >= 512; chunk /= 2) {
      // Append the biggest chunk that still fits, halving the chunk each time one does not.
      const block = Buffer.alloc(chunk);
      for (;;) {
        const written = appendUntilFull(fd, block);
        size += written;
        if (written < chunk) break;
      }
    }
    if (leave > 0) ftruncateSync(fd, Math.max(0, size - leave));
  } finally {
    closeSync(fd);
  }
}

function appendUntilFull(fd: number, block: Buffer): number {
  try {
    return writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return 0;
    throw e;
  }
}
