import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

/** Fills the file system holding `dir` (with `dir`/filler) but for about `leave` bytes; delete the filler to free it. */
export function fillUp(dir: string, leave = 0): void {
  const filler = path.join(dir, 'filler');
  let size = 0;
  for (let chunk = 1 << 24; chunk >= 512; chunk /= 2) {
    // Grow by the biggest chunk that still fits, halving the chunk each time one does not.
    for (;;) {
      try {
        writeFileSync(filler, Buffer.alloc(size + chunk));
        size += chunk;
      } catch {
        break;
      }
    }
  }
  writeFileSync(filler, Buffer.alloc(Math.max(0, size - leave)));
}
