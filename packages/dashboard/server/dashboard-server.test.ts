import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { type MetricRecord, RunMetricsFiles } from '@gradsync/metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { attachDashboard, DEFAULT_DASHBOARD_DIST, MetricsFeed, startDashboardServer, type DashboardServer } from './index';

const message = (text: string, t = 1): MetricRecord => ({ kind: 'message', t, level: 'info', text });

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

function get(url: string, method = 'GET', rawPath?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath ?? u.pathname, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a feed socket and collects parsed frames. */
function openFeed(url: string): Promise<{ ws: WebSocket; frames: unknown[]; next(n: number): Promise<unknown[]> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const frames: unknown[] = [];
    const waiters: { n: number; resolve: (f: unknown[]) => void }[] = [];
    ws.on('message', (data) => {
      frames.push(JSON.parse(String(data)));
      for (const w of [...waiters]) if (frames.length >= w.n) w.resolve(frames.slice(0, w.n));
    });
    ws.on('open', () =>
      resolve({
        ws,
        frames,
        next: (n) => (frames.length >= n ? Promise.resolve(frames.slice(0, n)) : new Promise((r) => waiters.push({ n, resolve: r }))),
      }),
    );
    ws.on('error', reject);
  });
}

/** The HTTP status a WebSocket upgrade gets when it is refused. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => reject(new Error(`upgrade on ${url} was accepted`)));
    ws.on('error', () => {});
  });
}

describe('dashboard server', () => {
  let dir: string;
  let dist: string;
  let server: DashboardServer | null = null;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gradsync-dash-'));
    dist = path.join(dir, 'dist');
    mkdirSync(path.join(dist, 'assets'), { recursive: true });
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>gradsync</title>');
    writeFileSync(path.join(dist, 'assets', 'app-123.js'), 'console.log(1)');
    writeFileSync(path.join(dist, 'assets', 'app-123.css'), 'body{}');
    writeFileSync(path.join(dir, 'secret.txt'), 'secret');
  });

  afterEach(async () => {
    await server?.close();
    server = null;
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (feed = new MetricsFeed(), distDir = dist) => {
    server = await startDashboardServer({ host: '127.0.0.1', port: 0, feed, distDir });
    return { feed, url: server.url, wsUrl: server.url.replace('http', 'ws') };
  };

  it('sends the history first, then each new record in order', async () => {
    const feed = new MetricsFeed();
    feed.publish(message('a'));
    feed.publish(message('b'));
    const { wsUrl } = await start(feed);
    const client = await openFeed(`${wsUrl}feed`);
    const [history] = await client.next(1);
    expect(history).toEqual({ type: 'history', records: [message('a'), message('b')] });
    feed.publish(message('c'));
    feed.publish(message('d'));
    const frames = await client.next(3);
    expect(frames.slice(1)).toEqual([
      { type: 'record', record: message('c') },
      { type: 'record', record: message('d') },
    ]);
    client.ws.close();
  });

  it('gives a late client the full history including live records', async () => {
    const { feed, wsUrl } = await start();
    const first = await openFeed(`${wsUrl}feed`);
    await first.next(1);
    feed.publish(message('x'));
    await first.next(2);
    const second = await openFeed(`${wsUrl}feed`);
    expect(await second.next(1)).toEqual([{ type: 'history', records: [message('x')] }]);
    first.ws.close();
    second.ws.close();
  });

  it('serves the built files with their content types', async () => {
    const { url } = await start();
    const index = await get(url);
    expect(index.status).toBe(200);
    expect(index.type).toBe('text/html; charset=utf-8');
    expect(index.body).toContain('<title>gradsync</title>');
    const js = await get(`${url}assets/app-123.js`);
    expect(js).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8', body: 'console.log(1)' });
    expect((await get(`${url}assets/app-123.css`)).type).toBe('text/css; charset=utf-8');
    expect((await get(url, 'HEAD')).status).toBe(200);
  });

  it('answers 503 with the fix when the dashboard is not built', async () => {
    const { url } = await start(new MetricsFeed(), path.join(dir, 'missing'));
    const r = await get(url);
    expect(r.status).toBe(503);
    expect(r.type).toBe('text/plain; charset=utf-8');
    expect(r.body).toMatch(/not built/);
    expect(r.body).toMatch(/pnpm build/);
    // The data is still there.
    expect((await get(`${url}api/records`)).status).toBe(200);
  });

  it('404s unknown paths and paths leaving the dist folder', async () => {
    const { url } = await start();
    expect((await get(`${url}nope`)).status).toBe(404);
    expect((await get(`${url}assets/missing.js`)).status).toBe(404);
    expect((await get(url, 'GET', '/..%2fsecret.txt')).status).toBe(404);
    expect((await get(url, 'GET', '/assets/..%2f..%2fsecret.txt')).status).toBe(404);
    expect((await get(url, 'POST')).status).toBe(405);
  });

  it('returns the history as JSON on /api/records', async () => {
    const feed = new MetricsFeed({ history: [message('old')] });
    feed.publish(message('new'));
    const { url } = await start(feed);
    const r = await get(`${url}api/records`);
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json; charset=utf-8');
    expect(JSON.parse(r.body)).toEqual([message('old'), message('new')]);
    // The page asks which view to show: one run, live.
    expect(JSON.parse((await get(`${url}api/view`)).body)).toEqual({ view: 'live' });
  });

  it('refuses a WebSocket upgrade on another path', async () => {
    const { wsUrl } = await start();
    expect(await upgradeStatus(`${wsUrl}elsewhere`)).toBe(404);
  });

  it('appends published records to metrics.jsonl, not the given history', () => {
    const file = path.join(dir, 'run', 'metrics.jsonl');
    const history = [message('old')];
    const feed = new MetricsFeed({ writer: new RunMetricsFiles(path.dirname(file), history), history });
    feed.publish(message('a', 1));
    feed.publish(message('b', 2));
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([message('a', 1), message('b', 2)]);
    expect(feed.records).toHaveLength(3);
  });

  it('shares a server with another WebSocket endpoint', async () => {
    const feed = new MetricsFeed();
    const httpServer = http.createServer();
    const peers = new WebSocketServer({ noServer: true });
    httpServer.on('upgrade', (req, socket, head) => {
      if (req.url === '/peer') peers.handleUpgrade(req, socket, head, (ws) => ws.send('peer hello'));
    });
    const attachment = attachDashboard(httpServer, feed, { distDir: dist, otherUpgradePaths: ['/peer'] });
    await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
    const port = (httpServer.address() as { port: number }).port;
    try {
      const peerHello = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/peer`);
        ws.on('message', (d) => {
          resolve(String(d));
          ws.close();
        });
        ws.on('error', reject);
      });
      expect(peerHello).toBe('peer hello');
      const client = await openFeed(`ws://127.0.0.1:${port}/feed`);
      expect(await client.next(1)).toEqual([{ type: 'history', records: [] }]);
      expect(attachment.routes.clientCount).toBe(1);
      client.ws.close();
      expect((await get(`http://127.0.0.1:${port}/`)).status).toBe(200);
      // Neither endpoint's path: refused, not left hanging.
      expect(await upgradeStatus(`ws://127.0.0.1:${port}/elsewhere`)).toBe(404);
    } finally {
      attachment.detach();
      peers.close();
      httpServer.closeAllConnections();
      await new Promise((r) => httpServer.close(r));
    }
  });

  it('reports a busy port as an error a user can act on', async () => {
    const { url } = await start();
    const port = Number(new URL(url).port);
    await expect(startDashboardServer({ host: '127.0.0.1', port, feed: new MetricsFeed(), distDir: dist })).rejects.toThrow(/already in use/);
  });

  it('looks for the dashboard build in packages/dashboard/dist', () => {
    expect(DEFAULT_DASHBOARD_DIST.replaceAll('\\', '/')).toMatch(/packages\/dashboard\/dist\/?$/);
  });
});

describe('GET /api/join', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  async function serve(options: Parameters<typeof attachDashboard>[2]): Promise<string> {
    const server = http.createServer();
    servers.push(server);
    attachDashboard(server, new MetricsFeed(), options);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  }

  it('offers the worker path and the run token only with --browser-workers', async () => {
    const on = await serve({ join: { workerPath: '/worker', token: 'run-secret' } });
    const offer = await get(`${on}api/join`);
    expect(offer.status).toBe(200);
    expect(JSON.parse(offer.body)).toEqual({ allowed: true, workerPath: '/worker', token: 'run-secret' });
    expect((await get(`${on}api/join`, 'POST')).status).toBe(405);

    const off = await serve({});
    expect(JSON.parse((await get(`${off}api/join`)).body)).toEqual({
      allowed: false,
      why: expect.stringContaining('--browser-workers'),
    });
  });

  it('is behind the viewer token like every other route', async () => {
    const url = await serve({ join: { workerPath: '/worker', token: 'run-secret' }, viewer: { token: 'viewer-secret', secure: false } });
    const refused = await get(`${url}api/join`);
    expect(refused.status).toBe(401);
    expect(refused.body).not.toContain('run-secret');
  });
});
