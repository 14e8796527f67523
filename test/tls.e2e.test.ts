import { writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { makeTestPki, type TestPki } from '@gradsync/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { COORDINATOR_CLI, endOf, readMetrics, runCli, startCliStreaming, syntheticDataDir, tempDir, WORKER_CLI } from './helpers/runs';

// Beyond loopback (0.0.0.0) over TLS, with real processes and a certificate this test makes from
// its own CA: the dashboard behind the viewer token, workers checking the coordinator's
// certificate, plain text against the TLS port, and a ring run over mutual TLS to the end.
let dataDir: string;
let runsDir: string;
let pki: TestPki;
let other: TestPki;
const files: Record<string, string> = {};

beforeAll(async () => {
  dataDir = await syntheticDataDir(128, 32, 5);
  runsDir = tempDir('tls-runs');
  const dir = tempDir('tls-certs');
  [pki, other] = await Promise.all([makeTestPki(['127.0.0.1']), makeTestPki(['127.0.0.1'])]);
  for (const [name, text] of Object.entries({
    'server.pem': pki.server.cert,
    'server.key': pki.server.key,
    'ca.pem': pki.ca.cert,
    'other-ca.pem': other.ca.cert,
  })) {
    files[name] = path.join(dir, name);
    writeFileSync(files[name], text);
  }
});

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; cookie?: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: pki.ca.cert, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] }));
    });
    req.on('error', reject);
  });
}

function feedClose(url: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { ca: pki.ca.cert });
    ws.on('message', () => resolve('data'));
    ws.on('close', (code, reason) => resolve(`${code} ${reason}`));
    ws.on('error', (e) => resolve(`error ${e.message}`));
  });
}

const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error:'));

describe('TLS and the viewer token beyond loopback', () => {
  it('refuses the dashboard without the viewer token, bad certificates and plain text with clear errors, then trains over TLS', async () => {
    const coordinator = startCliStreaming(
      COORDINATOR_CLI,
      [
        ...['--host', '0.0.0.0', '--port', '0', '--token', 'worker-s3cret', '--tls-cert', files['server.pem'], '--tls-key', files['server.key']],
        ...['--workers', '2', '--allreduce', 'ring', '--data-dir', dataDir, '--validation', '0', '--epochs', '1', '--batch-size', '32'],
        ...['--model', 'tiny-cnn', '--runs-dir', runsDir, '--run-name', 'tls'],
      ],
      { env: { GRADSYNC_TOKEN: '', GRADSYNC_VIEWER_TOKEN: '' } },
    );
    try {
      const port = (await coordinator.waitForLine(/workers connect to wss:\/\/0\.0\.0\.0:(\d+)\/worker/, 90_000))[1];
      const viewerToken = decodeURIComponent((await coordinator.waitForLine(/dashboard: https:\/\/0\.0\.0\.0:\d+\/\?token=(\S+)/))[1]);
      expect(coordinator.output()).not.toMatch(/no TLS/);
      const base = `https://127.0.0.1:${port}/`;

      // The dashboard: nothing without the viewer token, not even with the worker token.
      for (const route of ['', 'api/records', 'assets/x.js']) expect((await get(`${base}${route}`)).status, route).toBe(401);
      expect(await get(`${base}api/records`, { authorization: 'Bearer worker-s3cret' })).toMatchObject({
        status: 401,
        body: expect.stringMatching(/wrong viewer token/),
      });
      expect(await feedClose(`wss://127.0.0.1:${port}/feed`)).toMatch(/^4001 no viewer token$/);
      const exchange = await get(`${base}?token=${encodeURIComponent(viewerToken)}`);
      expect(exchange.status).toBe(303);
      const records = await get(`${base}api/records`, { cookie: exchange.cookie! });
      expect(records.status).toBe(200);
      expect(JSON.parse(records.body)[0]).toMatchObject({ kind: 'run', runName: 'tls' });

      const wss = `wss://127.0.0.1:${port}`;
      const env = { GRADSYNC_TOKEN: '', GRADSYNC_CA: '', GRADSYNC_TLS_FINGERPRINT: '' };
      const [asViewer, wrongPin, wrongCa, plain] = await Promise.all([
        runCli(WORKER_CLI, ['--coordinator', wss, '--cpu', '--ca', files['ca.pem'], '--token', viewerToken], { env, timeoutMs: 60_000 }),
        runCli(
          WORKER_CLI,
          ['--coordinator', wss, '--cpu', '--tls-fingerprint', other.server.fingerprint, '--token', 'worker-s3cret', '--connect-timeout', '600'],
          { env, timeoutMs: 60_000 },
        ),
        runCli(WORKER_CLI, ['--coordinator', wss, '--cpu', '--ca', files['other-ca.pem'], '--token', 'worker-s3cret', '--connect-timeout', '600'], {
          env,
          timeoutMs: 60_000,
        }),
        runCli(WORKER_CLI, ['--coordinator', `ws://127.0.0.1:${port}`, '--cpu', '--token', 'worker-s3cret', '--connect-timeout', '600'], {
          env,
          timeoutMs: 60_000,
        }),
      ]);
      // A viewer can watch, never join.
      expect(asViewer.code, asViewer.stderr).toBe(1);
      expect(errorLines(asViewer.stderr)[0]).toMatch(/4001.*refused: wrong token/);
      // Bad certificates and plain text end at once (no retrying until --connect-timeout) with the reason.
      expect(wrongPin.code, wrongPin.stderr).toBe(1);
      expect(errorLines(wrongPin.stderr)).toEqual([
        expect.stringMatching(
          /^error: the coordinator presented a certificate with SHA-256 fingerprint [0-9A-F:]{95}, not the expected [0-9A-F:]{95}; check --tls-fingerprint$/,
        ),
      ]);
      expect(wrongCa.code, wrongCa.stderr).toBe(1);
      expect(errorLines(wrongCa.stderr)[0]).toMatch(
        /^error: the coordinator at wss:\/\/127\.0\.0\.1:\d+\/worker has a certificate this side does not trust \(\w+: .*\); give its CA with --ca FILE, or pin it with --tls-fingerprint SHA256$/,
      );
      expect(plain.code, plain.stderr).toBe(1);
      expect(errorLines(plain.stderr)[0]).toMatch(
        /^error: the coordinator at ws:\/\/127\.0\.0\.1:\d+\/worker answered HTTP 400: this port speaks TLS only: use https:\/\/ for the dashboard and wss:\/\/ for workers$/,
      );
      expect(coordinator.output()).toMatch(/refused a plain-text connection from 127\.0\.0\.1: this port speaks TLS only/);

      // One worker trusts the CA, the other pins the certificate; their ring links are TLS too.
      const [byCa, byPin] = await Promise.all([
        runCli(WORKER_CLI, ['--coordinator', wss, '--cpu', '--ca', files['ca.pem']], { env: { ...env, GRADSYNC_TOKEN: 'worker-s3cret' }, timeoutMs: 150_000 }),
        runCli(WORKER_CLI, ['--coordinator', wss, '--cpu'], {
          env: { ...env, GRADSYNC_TOKEN: 'worker-s3cret', GRADSYNC_TLS_FINGERPRINT: pki.server.fingerprint },
          timeoutMs: 150_000,
        }),
      ]);
      expect(byCa.code, byCa.stderr).toBe(0);
      expect(byPin.code, byPin.stderr).toBe(0);
      for (const w of [byCa, byPin]) expect(w.stderr).toMatch(/ring endpoint wss:\/\/127\.0\.0\.1:\d+\/#sha256=[0-9a-f]{64}/);
      expect(await coordinator.exited).toEqual({ code: 0, signal: null });
      expect(endOf(readMetrics(path.join(runsDir, 'tls')))?.status).toBe('completed');
    } finally {
      await coordinator.stop();
    }
  }, 300_000);
});
