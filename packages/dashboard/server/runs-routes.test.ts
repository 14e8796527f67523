import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MetricRecord, RunSummary } from '@gradsync/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { type DashboardServer, startDashboardServer } from './start';
import { resolveDashboardTarget, RunsFolder } from './runs-folder';

const message = (text: string, t: number): MetricRecord => ({ kind: 'message', t, level: 'info', text });

function runsDir(runs: Record<string, MetricRecord[]>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gradsync-runs-'));
  for (const [name, records] of Object.entries(runs)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, 'metrics.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
  mkdirSync(path.join(dir, 'not-a-run'));
  return dir;
}

describe('runs folder over HTTP', () => {
  let server: DashboardServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it('lists the runs with their summaries and serves each run’s records; nothing outside the folder', async () => {
    const dir = runsDir({ alpha: [message('a', 1)], 'beta 2': [message('b', 2), message('c', 3)] });
    server = await startDashboardServer({ host: '127.0.0.1', port: 0, runs: new RunsFolder(dir), distDir: path.join(dir, 'no-dist') });
    const list = (await (await fetch(`${server.url}api/runs`)).json()) as RunSummary[];
    expect(list.map((r) => r.name)).toEqual(['alpha', 'beta 2']);
    expect(list[1].startedAt).toBe(2);
    const records = (await (await fetch(`${server.url}api/runs/${encodeURIComponent('beta 2')}/records`)).json()) as MetricRecord[];
    expect(records).toEqual([message('b', 2), message('c', 3)]);
    expect((await fetch(`${server.url}api/runs/not-a-run/records`)).status).toBe(404);
    expect((await fetch(`${server.url}api/runs/..%2F..%2Fetc/records`)).status).toBe(404);
    expect((await fetch(`${server.url}api/runs`, { method: 'POST' })).status).toBe(405);
    // The page asks which view to show; the live view's endpoint does not exist here.
    expect(await (await fetch(`${server.url}api/view`)).json()).toEqual({ view: 'compare' });
    expect((await fetch(`${server.url}api/records`)).status).toBe(404);
  });

  it('reads a run again once its file grew', async () => {
    const dir = runsDir({ alpha: [message('a', 1)] });
    const folder = new RunsFolder(dir);
    expect(folder.records('alpha')).toHaveLength(1);
    writeFileSync(path.join(dir, 'alpha', 'metrics.jsonl'), `${JSON.stringify(message('a', 1))}\n${JSON.stringify(message('b', 2))}\n`);
    expect(folder.records('alpha')).toHaveLength(2);
  });

  it('tells a run folder from a folder of runs, and names the problem for a folder with neither', () => {
    const dir = runsDir({ alpha: [message('a', 1)] });
    expect(resolveDashboardTarget(dir)).toEqual({ kind: 'runs', dir, names: ['alpha'] });
    expect(resolveDashboardTarget(path.join(dir, 'alpha'))).toEqual({ kind: 'run', file: path.join(dir, 'alpha', 'metrics.jsonl') });
    expect(() => resolveDashboardTarget(path.join(dir, 'not-a-run'))).toThrow(/has no metrics.jsonl and no run folders/);
    expect(() => resolveDashboardTarget(path.join(dir, 'missing'))).toThrow(/does not exist/);
  });
});
