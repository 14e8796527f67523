import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDashboardBuilt } from './ensure-built';

/** A build script standing in for the dashboard's: a real child process that writes (or fails to write) the page. */
function fakeBuild(body: string): { distDir: string; script: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'gradsync-ensure-built-'));
  const distDir = path.join(root, 'dist');
  const script = path.join(root, 'build.mjs');
  writeFileSync(script, body.replaceAll('DIST', JSON.stringify(distDir)));
  return { distDir, script };
}

describe('ensureDashboardBuilt', () => {
  it('leaves a built page alone (no build, no line)', async () => {
    const { distDir, script } = fakeBuild('process.exit(3);');
    mkdirSync(distDir);
    writeFileSync(path.join(distDir, 'index.html'), '<html></html>');
    const lines: string[] = [];
    expect(await ensureDashboardBuilt((l) => lines.push(l), distDir, script)).toEqual({ ok: true, built: false });
    expect(lines).toEqual([]);
  });

  it('builds a missing page, saying so first', async () => {
    const { distDir, script } = fakeBuild(`import { mkdirSync, writeFileSync } from 'node:fs'; mkdirSync(DIST); writeFileSync(DIST + '/index.html', 'page');`);
    const lines: string[] = [];
    expect(await ensureDashboardBuilt((l) => lines.push(l), distDir, script)).toEqual({ ok: true, built: true });
    expect(lines).toEqual([expect.stringMatching(/^building the dashboard page/)]);
    expect(existsSync(path.join(distDir, 'index.html'))).toBe(true);
  });

  it("reports a failed build with the build's own last words and the command to try", async () => {
    const { distDir, script } = fakeBuild(`console.error('vite: cannot find module uplot'); process.exit(1);`);
    const ready = await ensureDashboardBuilt(() => {}, distDir, script);
    expect(ready.ok).toBe(false);
    if (!ready.ok) expect(ready.why).toMatch(/building it failed \(vite: cannot find module uplot\); try `pnpm --filter @gradsync\/dashboard build`/);
  });

  it('a build that exits 0 without writing the page is a failure too', async () => {
    const { distDir, script } = fakeBuild('');
    expect((await ensureDashboardBuilt(() => {}, distDir, script)).ok).toBe(false);
  });
});
