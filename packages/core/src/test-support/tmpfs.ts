import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
