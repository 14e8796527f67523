import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureDashboardBuilt } from '@gradsync/dashboard/node';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = fileURLToPath(new URL('./dashboard.ts', import.meta.url));
const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');

function run(args: string[]): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(tsx, [cli, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('pnpm dashboard', () => {
  // The CLI builds a missing page itself before it prints the URL; done here first, so that a
  // fresh clone's first build (tens of seconds on a busy machine) is not inside the wait below,
  // and a page that cannot build fails here with the build's own words.
  beforeAll(async () => {
    const ready = await ensureDashboardBuilt(() => {});
    expect(ready).toEqual(expect.objectContaining({ ok: true }));
  }, 180_000);

  let dir: string | undefined;
  let proc: ChildProcess | undefined;
  afterEach(() => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exits non-zero with one line when the run has no metrics', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gradsync-cli-'));
    const r = run([path.join(dir, 'missing-run')]);
    proc = r.child;
    expect(await r.exit).toBe(1);
    expect(r.err().trim().split('\n')).toHaveLength(1);
    expect(r.err()).toMatch(/^error: .*missing-run does not exist/);
  }, 30_000);

  it('serves a run, reporting a corrupt line by number instead of crashing', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gradsync-cli-'));
    const runDir = path.join(dir, 'run-x');
    mkdirSync(runDir);
    const good = { kind: 'message', t: 1, level: 'info', text: 'hello' };
    writeFileSync(path.join(runDir, 'metrics.jsonl'), `${JSON.stringify(good)}\n{"kind":"st\n${JSON.stringify({ ...good, t: 2 })}\n`);
    const r = run([runDir, '--port', '0']);
    proc = r.child;
    await until(() => /dashboard: http:\/\/\S+/.test(r.out()), 45_000);
    const url = /dashboard: (http:\/\/\S+)/.exec(r.out())![1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(r.err()).toMatch(/line 2 is not a metric record/);
    const records = (await (await fetch(`${url}api/records`)).json()) as unknown[];
    expect(records).toHaveLength(2);
    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(0);
  }, 60_000);
});
