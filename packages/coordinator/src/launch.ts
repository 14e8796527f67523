import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { GradsyncError } from '@gradsync/core';
import { selectBackend } from '@gradsync/backends';
import { type AllowList, randomSecret, showFingerprint, refusalReporter, secretsEqual, type TlsIdentity, openHttpPort } from '@gradsync/cluster';
import { modelShapeFor, type RunConfig } from '@gradsync/train';
import { type ModelBuilder, networkForRun, writeRunConfigFile } from '@gradsync/train/node';
import { type DataReadOptions, loadDataset } from '@gradsync/data';
import { type EndRecord, type MetricRecord, readJsonl, RunMetricsFiles } from '@gradsync/metrics';
import { attachDashboard, MetricsFeed } from '@gradsync/dashboard/node';
import { type DataFlags, hasDataFlags, writeDataFlags } from './data-flags-record';
import { loadLatestCheckpoint } from './run/checkpoint';
import { RunCoordinator } from './run/run-coordinator';
import { WORKER_PATH, WorkerHub } from './hub/worker-hub';

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
  /** --browser-workers: a dashboard viewer may start a worker in the page (same-origin WebSocket, the run's token). */
  browserWorkers?: boolean;
  runsDir: string;
  dataDir?: string;
  cacheDir?: string;
  /** How to read dataDir (format, image size, channels, labels). */
  dataRead?: DataReadOptions;
  /** The data flags as given, kept in the run folder (data.json) for --resume. */
  dataFlags?: DataFlags;
  token?: string;
  /** --allow: connections (workers, dashboards) only from these addresses. */
  allow?: AllowList | null;
  /** Continue the run in this folder from its newest valid checkpoint. */
  resumeDir?: string;
  /** The command that continues this run (named in the message when a write fails). */
  resumeCommand?: string;
  /** --tls-cert/--tls-key: https and wss on the port. */
  tls?: TlsIdentity;
  /** --keep-dashboard: after the run, keep serving its dashboard until close() (the workers' endpoint closes). */
  keepDashboard?: boolean;
  /** --viewer-token: the dashboard's secret; beyond loopback one is made up when not given. */
  viewerToken?: string;
  log: (level: 'info' | 'warn' | 'error', line: string) => void;
  /** The network, built in-process (the API's model function); config.model is then its `builder:<name>` label. */
  modelBuilder?: ModelBuilder;
  /** Called with every metric record as it is published (the API's onRecord). */
  onRecord?: (record: MetricRecord) => void;
}

export interface LaunchedCoordinator {
  /** ws:// URL workers connect to. */
  workerUrl: string;
  /** http(s):// URL of the coordinator (dashboard). */
  httpUrl: string;
  /** The URL to open the dashboard with: httpUrl with ?token= when it is behind a viewer token. */
  dashboardUrl: string;
  runDir: string;
  /** Resolves when the run ends (rejects with the reason it failed). */
  done: Promise<EndRecord>;
  /** Ends the run after the step in flight with a checkpoint there (Note [Stop with a checkpoint]); `done` then says 'stopped'. */
  checkpointAndStop(reason: string): void;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Loads the data, opens the port, and runs a coordinator until the run ends. */
export async function launchCoordinator(o: LaunchOptions): Promise<LaunchedCoordinator> {
  if (!LOOPBACK.has(o.host) && !o.token) {
    throw new GradsyncError(
      'E_TOKEN_REQUIRED',
      `listening on ${o.host} exposes the run beyond this machine: set a shared secret with --token or GRADSYNC_TOKEN`,
    );
  }
  const viewerToken = o.viewerToken ?? (LOOPBACK.has(o.host) ? undefined : randomSecret());
  if (viewerToken !== undefined && o.token !== undefined && secretsEqual(o.token, viewerToken)) {
    throw new GradsyncError('E_FLAG', '--viewer-token must differ from --token: a viewer may watch the run, never join it');
  }
  if (!LOOPBACK.has(o.host) && !o.tls) {
    o.log(
      'warn',
      `no TLS: the worker token, the viewer token and every metric cross the network from ${o.host} in clear text; give --tls-cert and --tls-key (README, Security)`,
    );
  }
  // The coordinator only builds, checkpoints and exports models: the plain CPU backend is enough.
  await selectBackend({ backend: 'cpu' });
  const runDir = path.resolve(o.resumeDir ?? path.join(o.runsDir, o.config.runName));
  const resume = o.resumeDir ? await loadLatestCheckpoint(runDir, (l) => o.log('warn', l)) : null;
  if (o.resumeDir) {
    o.log(
      'info',
      resume
        ? `resuming ${runDir} from ${resume.dir} (epoch ${resume.meta.nextEpoch + 1}, step ${resume.meta.step})`
        : `no usable checkpoint in ${runDir}: starting it from the beginning`,
    );
  }
  mkdirSync(runDir, { recursive: true });
  await writeRunConfigFile(runDir, o.config);
  // A run from before data.json gets one on its first resume, from the flags given then.
  if (o.dataFlags && (!o.resumeDir || !hasDataFlags(runDir))) await writeDataFlags(runDir, o.dataFlags);
  const data = await loadDataset({ ...o.dataRead, dataDir: o.dataDir, cacheDir: o.cacheDir, log: (l) => o.log('info', l) });
  o.log('info', `data: ${data.source}`);
  const metricsFile = path.join(runDir, 'metrics.jsonl');
  // On resume the dashboard shows the whole run: the records so far are its history.
  const history = o.resumeDir && existsSync(metricsFile) ? readJsonl(metricsFile).records : [];
  const metrics = new MetricsFeed({ writer: new RunMetricsFiles(runDir, history), history });
  if (o.onRecord) metrics.subscribe(o.onRecord);
  const network = await networkForRun(o.config.model, modelShapeFor(data), o.resumeDir ? runDir : undefined, o.modelBuilder);
  if (network) o.log('info', `model: ${o.config.model} (${network.countParams()} parameters), rebuilt from its topology on every worker`);
  const coordinator = new RunCoordinator(o.config, data, {
    runDir,
    runId: `${o.config.runName}-${randomUUID().slice(0, 8)}`,
    membership: { expectWorkers: o.workers, minWorkers: o.minWorkers ?? 1, maxWorkers: o.maxWorkers ?? 1024 },
    metrics,
    log: o.log,
    resume,
    resumeCommand: o.resumeCommand,
    network,
  });
  if (!resume) await coordinator.saveInitialModel();
  else o.log('info', `resumed weights: ${coordinator.weightsHash()}, as checkpointed`);
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
  const { allow } = o;
  const refusals = refusalReporter(
    (line) => o.log('warn', line),
    (address) => `refused a connection from ${address}: not in --allow ${allow?.ranges.join(' ')}`,
  );
  const plaintext = refusalReporter(
    (line) => o.log('warn', line),
    (address) => `refused a plain-text connection from ${address}: this port speaks TLS only`,
    { what: 'plain-text connection(s)' },
  );
  const viewers = refusalReporter(
    (line) => o.log('warn', line),
    (who) => `refused a dashboard request from ${who}`,
    { what: 'dashboard request(s) without a viewer credential' },
  );
  const port_ = openHttpPort({ tls: o.tls, allow, onOutsider: (a) => refusals.refused(a), onPlaintext: (a) => plaintext.refused(a) });
  const { server } = port_;
  if (allow) o.log('info', `accepting connections only from ${allow.ranges.join(' ')} and loopback`);
  const dashboard = attachDashboard(server, metrics, {
    otherUpgradePaths: [WORKER_PATH],
    viewer: viewerToken === undefined ? undefined : { token: viewerToken, secure: Boolean(o.tls) },
    onRefused: (address, why) => viewers.refused(`${address} (${why})`),
    join: o.browserWorkers ? { workerPath: WORKER_PATH, token: o.token } : undefined,
  });
  const hub = new WorkerHub(
    server,
    { onHello: (c) => coordinator.onHello(c), onMessage: (c, m) => coordinator.onMessage(c, m), onGone: (c, r) => coordinator.onGone(c, r), log: o.log },
    {
      token: o.token,
      maxPayload: RunCoordinator.maxPayloadFor(coordinator.bufferFloats),
      heartbeatTimeoutMs: o.heartbeatTimeoutMs ?? 10_000,
      stepAllowanceMs: () => coordinator.heartbeatAllowanceMs(),
      browserWorkers: Boolean(o.browserWorkers),
    },
  );
  let port: number;
  try {
    port = await port_.listen(o.port, o.host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GradsyncError(
      'E_LISTEN',
      `cannot listen on ${o.host}:${o.port}: ${code === 'EADDRINUSE' ? 'the port is in use (choose another with --port)' : (err as Error).message}`,
    );
  }
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host;
  const workerUrl = `${o.tls ? 'wss' : 'ws'}://${hostForUrl}:${port}${WORKER_PATH}`;
  const httpUrl = `${port_.scheme}://${hostForUrl}:${port}/`;
  if (o.tls)
    o.log('info', `TLS on: certificate SHA-256 ${showFingerprint(o.tls.fingerprint)} (workers pin it with --tls-fingerprint, or trust its CA with --ca)`);
  const dashboardUrl = viewerToken === undefined ? httpUrl : `${httpUrl}?token=${encodeURIComponent(viewerToken)}`;
  let workersClosed = false;
  const closeWorkers = () => {
    if (workersClosed) return;
    workersClosed = true;
    coordinator.stop('the coordinator is shutting down');
    hub.close();
    for (const r of [refusals, plaintext, viewers]) r.flush();
  };
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      closeWorkers();
      dashboard.detach();
      await port_.close();
    })());
  // --keep-dashboard: the run's end closes the worker side only; the page stays up until close().
  const done = coordinator.run().finally(() => setTimeout(() => (o.keepDashboard ? closeWorkers() : void close()), 200));
  done.catch(() => {});
  return { workerUrl, httpUrl, dashboardUrl, runDir, done, close, checkpointAndStop: (reason) => coordinator.requestCheckpointAndStop(reason) };
}

/** Reads a finished or interrupted run's configuration (for --resume). */
export function readRunConfig(runDir: string): RunConfig {
  try {
    return JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')) as RunConfig;
  } catch (err) {
    throw new GradsyncError(
      'E_RESUME',
      `cannot resume ${runDir}: its config.json is ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable'}`,
    );
  }
}
