import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TlsIdentity } from '@gradsync/cluster';
import { makeTestPki } from '@gradsync/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type DashboardServer, MetricsFeed, PAGE_CSP, startDashboardServer } from './index';

// The dashboard behind a viewer token and over TLS, on real sockets.
const TOKEN = 'viewer-s3cret';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: string, headers: Record<string, string> = {}, ca?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, headers, ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** How a feed connection ends: the first frame's type, or the close code and reason. */
function feedOutcome(url: string, headers: Record<string, string> = {}, ca?: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, ca });
    ws.on('message', (d) => {
      resolve(`frame ${JSON.parse(String(d)).type}`);
      ws.close();
    });
    ws.on('close', (code, reason) => resolve(`close ${code} ${reason}`));
    ws.on('error', (e) => resolve(`error ${e.message}`));
  });
}

describe('dashboard behind a viewer token', () => {
  let dir: string;
  let server: DashboardServer | null = null;
  let tls: TlsIdentity;
  let ca: string;
  const refused: string[] = [];

  beforeAll(async () => {
    const pki = await makeTestPki(['127.0.0.1']);
    tls = pki.server;
    ca = pki.ca.cert;
  });
  afterEach(async () => {
    await server?.close();
    server = null;
    refused.length = 0;
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (o: { tls?: TlsIdentity } = {}) => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gradsync-secure-'));
    mkdirSync(path.join(dir, 'assets'), { recursive: true });
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>gradsync</title>');
    writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
    const feed = new MetricsFeed({ history: [{ kind: 'message', t: 1, level: 'info', text: 'hi' }] });
    server = await startDashboardServer({
      host: '127.0.0.1',
      port: 0,
      feed,
      distDir: dir,
      viewerToken: TOKEN,
      tls: o.tls,
      onRefused: (a, why) => refused.push(`${a} ${why}`),
    });
    return server;
  };

  it('refuses every route and the feed without a credential: 401 with the reason, 4001 on the feed, each refusal reported', async () => {
    const s = await start();
    for (const p of ['', 'index.html', 'assets/app.js', 'api/records', 'feed', 'nope']) {
      const r = await request(`${s.url}${p}`);
      expect(r.status, p).toBe(401);
      expect(r.body).toMatch(/^401 Unauthorized: no viewer token\. .*--viewer-token/);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect(await feedOutcome(`${s.url.replace('http', 'ws')}feed`)).toMatch(/^close 4001 no viewer token$/);
    expect(await request(`${s.url}api/records`, { authorization: 'Bearer nope' })).toMatchObject({
      status: 401,
      body: expect.stringMatching(/wrong viewer token/),
    });
    expect(await request(`${s.url}?token=nope`)).toMatchObject({ status: 401 });
    expect(refused).toHaveLength(9);
    expect(refused[0]).toMatch(/^127\.0\.0\.1 no viewer token$/);
  });

  it('trades ?token= for an HttpOnly SameSite=Strict cookie and a redirect to the clean URL; the cookie opens the page and the feed', async () => {
    const s = await start();
    const first = await request(`${s.url}?token=${TOKEN}&x=1`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/?x=1');
    const setCookie = first.headers['set-cookie']![0];
    expect(setCookie).toMatch(/^gradsync_viewer=[\w-]+; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0];
    const page = await request(s.url, { cookie });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>gradsync</title>');
    expect(page.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const records = await request(`${s.url}api/records`, { cookie });
    expect(records.status).toBe(200);
    expect(records.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(records.body)).toHaveLength(1);
    expect(await feedOutcome(`${s.url.replace('http', 'ws')}feed`, { cookie })).toBe('frame history');
    // Scripts: the token as a bearer credential.
    expect((await request(`${s.url}api/records`, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect(await feedOutcome(`${s.url.replace('http', 'ws')}feed`, { authorization: `Bearer ${TOKEN}` })).toBe('frame history');
    // A cookie of another token (another run) does not.
    expect((await request(s.url, { cookie: 'gradsync_viewer=forged' })).status).toBe(401);
    expect(refused).toHaveLength(1);
  });

  it('over TLS: https and wss with the cookie marked Secure; a plain-text client gets a 400 naming https/wss, not a hang', async () => {
    const s = await start({ tls });
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    expect(s.openUrl).toBe(`${s.url}?token=${TOKEN}`);
    const first = await request(s.openUrl, {}, ca);
    expect(first.headers['set-cookie']![0]).toMatch(/; Secure$/);
    const cookie = first.headers['set-cookie']![0].split(';')[0];
    expect((await request(`${s.url}api/records`, { cookie }, ca)).status).toBe(200);
    expect(await feedOutcome(`${s.url.replace('https', 'wss')}feed`, { cookie }, ca)).toBe('frame history');
    const plain = await request(s.url.replace('https', 'http'));
    expect(plain.status).toBe(400);
    expect(plain.body).toBe('this port speaks TLS only: use https:// for the dashboard and wss:// for workers\n');
    expect(refused).toEqual(['127.0.0.1 plain text on the TLS port']);
    // A client that never sends anything is not answered (nor does it hold the port up: close() cuts it).
    const idle = net.connect(s.port, '127.0.0.1');
    await new Promise((r) => idle.once('connect', r));
    idle.destroy();
  });
});
