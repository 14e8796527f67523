import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { GradsyncError } from '@gradsync/core';
import { selectBackend } from '@gradsync/core/backend';
import type { RunConfig } from '@gradsync/core/config';
import { loadCifar10 } from '@gradsync/core/data';
import { type EndRecord, readJsonl, RunMetricsFiles } from '@gradsync/core/metrics';
import { attachDashboard, MetricsFeed } from './dashboard-server/index';
import { loadLatestCheckpoint } from './checkpoint';
import { RunCoordinator } from './run-coordinator';
import { WORKER_PATH, WorkerHub } from './worker-hub';

export interface LaunchOptions {
  config: RunConfig;
  host: string;
  port: number;
  workers: number;
  /** Training pauses below this many workers (default 1). */
  minWorkers?: number;
  /** Joins beyond this many are refused (default 1024). */
  maxWorkers?: number;
  /** A worker silent this long (no pong) is declared gone (default 10 s). */
  heartbeatTimeoutMs?: number;
  runsDir: string;
  dataDir?: string;
  cacheDir?: string;
  token?: string;
  /** Continue the run in this folder from its newest valid checkpoint. */
  resumeDir?: string;
  log: (level: 'info' | 'warn' | 'error', line: string) => void;
}

export interface LaunchedCoordinator {
  /** ws:// URL workers connect to. */
  workerUrl: string;
  /** http:// URL of the coordinator (dashboard). */
  httpUrl: string;
  runDir: string;
  /** Resolves when the run ends (rejects with the reason it failed). */
  done: Promise<EndRecord>;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Loads the data, opens the port, and runs a coordinator until the run ends. */
export async function launchCoordinator(o: LaunchOptions): Promise<LaunchedCoordinator> {
  if (!LOOPBACK.has(o.host) && !o.token) {
    throw new GradsyncError('E_TOKEN_REQUIRED', `listening on ${o.host} exposes the run beyond this machine: set a shared secret with --token or GRADSYNC_TOKEN`);
  }
  // The coordinator only builds, checkpoints and exports models: the plain CPU backend is enough.
  await selectBackend({ backend: 'cpu' });
  const runDir = path.resolve(o.resumeDir ?? path.join(o.runsDir, o.config.runName));
  const resume = o.resumeDir ? await loadLatestCheckpoint(runDir, (l) => o.log('warn', l)) : null;
  if (o.resumeDir) {
    o.log('info', resume ? `resuming ${runDir} from ${resume.dir} (epoch ${resume.meta.nextEpoch + 1}, step ${resume.meta.step})` : `no usable checkpoint in ${runDir}: starting it from the beginning`);
  }
  mkdirSync(runDir, { recursive: true });
  writeFileSync(path.join(runDir, 'config.json'), `${JSON.stringify(o.config, null, 2)}\n`);
  const data = await loadCifar10({ dataDir: o.dataDir, cacheDir: o.cacheDir, log: (l) => o.log('info', l) });
  o.log('info', `data: ${data.source}`);
  const metricsFile = path.join(runDir, 'metrics.jsonl');
  // On resume the dashboard shows the whole run: the records so far are its history.
  const history = o.resumeDir && existsSync(metricsFile) ? readJsonl(metricsFile).records : [];
  const metrics = new MetricsFeed({ writer: new RunMetricsFiles(runDir, history), history });
  const coordinator = new RunCoordinator(o.config, data, {
    runDir,
    runId: `${o.config.runName}-${randomUUID().slice(0, 8)}`,
    membership: { expectWorkers: o.workers, minWorkers: o.minWorkers ?? 1, maxWorkers: o.maxWorkers ?? 1024 },
    metrics,
    log: o.log,
    resume,
  });
  metrics.publish({
    kind: 'run',
    t: Date.now(),
    runName: o.config.runName,
    config: o.config as unknown as Record<string, unknown>,
    classNames: data.classNames,
    trainCount: coordinator.trainCount,
    validationCount: coordinator.validationCount,
    testCount: data.test.count,
    stepsPerEpoch: coordinator.stepsPerEpoch,
  });
  // No handler of its own: the dashboard answers its routes and 404s the rest.
  const server = http.createServer();
  const dashboard = attachDashboard(server, metrics, { otherUpgradePaths: [WORKER_PATH] });
  const hub = new WorkerHub(
    server,
    { onHello: (c) => coordinator.onHello(c), onMessage: (c, m) => coordinator.onMessage(c, m), onGone: (c, r) => coordinator.onGone(c, r), log: o.log },
    { token: o.token, maxPayload: RunCoordinator.maxPayloadFor(coordinator.bufferFloats), heartbeatTimeoutMs: o.heartbeatTimeoutMs ?? 10_000, stepAllowanceMs: () => coordinator.heartbeatAllowanceMs() },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new GradsyncError('E_LISTEN', `cannot listen on ${o.host}:${o.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use (choose another with --port)' : err.message}`)),
    );
    try {
      server.listen(o.port, o.host, () => resolve());
    } catch (err) {
      // Node throws (rather than emitting 'error') for a port out of range or a malformed host.
      reject(new GradsyncError('E_LISTEN', `cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`));
    }
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  const workerUrl = `ws://${hostForUrl}:${port}${WORKER_PATH}`;
  const httpUrl = `http://${hostForUrl}:${port}/`;
  const close = async () => {
    coordinator.stop('the coordinator is shutting down');
    hub.close();
    dashboard.detach();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  const done = coordinator.run().finally(() => setTimeout(() => void close(), 200));
  done.catch(() => {});
  return { workerUrl, httpUrl, runDir, done, close };
}


/** Reads a finished or interrupted run's configuration (for --resume). */
export function readRunConfig(runDir: string): RunConfig {
  try {
    return JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')) as RunConfig;
  } catch (err) {
    throw new GradsyncError('E_RESUME', `cannot resume ${runDir}: its config.json is ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable'}`);
  }
}
