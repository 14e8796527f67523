import { Option } from 'commander';
import { GradsyncError } from '@gradsync/core';
import { gradsyncProgram, logInfo, QUIET_FLAGS, QUIET_HELP, runCli, setQuiet } from '@gradsync/core/node';
import { selectBackend } from '@gradsync/backends';
import { hostname } from 'node:os';
import {
  addClientTlsOptions,
  addPeerOptions,
  allowListFrom,
  allowOption,
  CLUSTER_ENV,
  ephemeralIdentity,
  parseCoordinatorUrl,
  peerPortFrom,
  serverCheckFrom,
  showFingerprint,
  stringFrom,
} from '@gradsync/cluster';
import { intOption } from '@gradsync/train';
import { addDataReadOptions, dataReadOptionsFrom } from '@gradsync/train/node';
import { type Cifar10, type DataReadOptions, loadDataset } from '@gradsync/data';
import { datasetChecksum, datasetIdentity } from '@gradsync/protocol';
import { backendOption, threadsOption } from '../backend-flag';
import { connectToCoordinator } from '../coordinator-link';
import { createRingProvider } from '../ring-provider';
import { createThreadedRingProvider } from '../comm-thread/comm-thread';
import { ProcessUsageSampler } from '../process-usage';
import { WorkerSession } from '../session/worker-session';

const log = logInfo;

const OVERLAP_CHOICES = ['auto', 'on', 'off'];

/** With a GPU computing, the CPU mostly waits during the backward pass: the ring's thread has a core to itself. */
function computesOnGpu(backend: { name: string; device: string; softwareRasteriser: boolean }): boolean {
  return (backend.name === 'tensorflow' || backend.name === 'webgpu') && backend.device.startsWith('GPU') && !backend.softwareRasteriser;
}

/** --data-dir: the data read here, and the checksum the coordinator compares with its own. */
async function readOwnData(dataDir: string, read: DataReadOptions): Promise<{ data: Cifar10; identity: string }> {
  const data = await loadDataset({ ...read, dataDir, log });
  const checksum = datasetChecksum(data);
  log(`own data: ${data.source}, checksum ${checksum.slice(0, 12)}…; the coordinator uploads nothing if it is the run's`);
  return { data, identity: datasetIdentity({ checksum, classNames: data.classNames, shape: data.shape }) };
}

await runCli(async () => {
  const program = gradsyncProgram('pnpm worker')
    .description(
      'A training worker: connects to a coordinator and trains until the run ends. Every network setting can also come from a GRADSYNC_* variable (a flag wins).',
    )
    .addOption(new Option('--coordinator <url>', 'coordinator address').env(CLUSTER_ENV.coordinator).default('ws://127.0.0.1:7070'))
    .option(
      '--gpu <n>',
      'train on this GPU (tfjs-node-gpu): GPU N of the machine, or the N-th entry of CUDA_VISIBLE_DEVICES when a scheduler set it',
      intOption('--gpu', 0),
    )
    .option('--cpu', 'train on the CPU (never a GPU backend)')
    .addOption(backendOption())
    .addOption(threadsOption());
  addClientTlsOptions(addPeerOptions(program))
    .addOption(allowOption('ring links'))
    .option('--token <secret>', `shared secret of the run (default: $${CLUSTER_ENV.token})`)
    .addOption(
      new Option(
        '--overlap <when>',
        'reduce each gradient bucket while the backward pass goes on, the ring on a thread of its own (on), or after it on the main thread (off); auto: on when a GPU computes, off on the CPU, where that thread would take a core from the compute',
      )
        .choices(OVERLAP_CHOICES)
        .env('GRADSYNC_OVERLAP')
        .default('auto'),
    )
    .addOption(
      new Option(
        '--drain-on-sigterm <s>',
        "on SIGTERM, stay up to S seconds so the coordinator can checkpoint this worker's state and end the run (gradsync launch sets it; SIGINT still leaves at once)",
      )
        .env('GRADSYNC_DRAIN_ON_SIGTERM')
        .argParser(intOption('--drain-on-sigterm', 1)),
    )
    .option(
      '--data-dir <dir>',
      "read the run's data from this folder instead of receiving it from the coordinator (used only when its checksum is the run's; same --data-format, --image-size … flags as the coordinator's)",
    )
    .option('--connect-timeout <s>', 'give up if the coordinator is unreachable this long', intOption('--connect-timeout', 1), 120)
    .option('--heartbeat-timeout <s>', 'treat a coordinator silent this long as gone', intOption('--heartbeat-timeout', 1), 10)
    .option(QUIET_FLAGS, QUIET_HELP);
  addDataReadOptions(program);
  program.parse();
  const o = program.opts();
  setQuiet(Boolean(o.quiet));
  if (o.gpu !== undefined && o.cpu) throw new GradsyncError('E_FLAG', '--gpu and --cpu contradict each other: pick one');
  const url = parseCoordinatorUrl(stringFrom(program, 'coordinator') ?? 'ws://127.0.0.1:7070');
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  // Checked before the backend loads, so a bad value fails at once.
  const ringOptions = {
    listenHost: stringFrom(program, 'peerHost') ?? (local ? '127.0.0.1' : '0.0.0.0'),
    advertiseHost: stringFrom(program, 'advertiseHost'),
    portRange: peerPortFrom(program),
    allow: allowListFrom(program),
    local,
  };
  const serverCheck = serverCheckFrom(program);
  if (serverCheck && url.protocol !== 'wss:')
    throw new GradsyncError('E_FLAG', `--ca and --tls-fingerprint check a TLS coordinator: use a wss:// --coordinator URL, got ${url.toString()}`);
  const localData = o.dataDir === undefined ? undefined : await readOwnData(o.dataDir, dataReadOptionsFrom(o));
  const backend = await selectBackend({ backend: o.cpu && o.backend === 'auto' ? 'auto' : o.backend, gpu: o.cpu ? undefined : o.gpu, threads: o.threads });
  log(backend.summary);
  if (o.token !== undefined && o.token.trim() === '') throw new GradsyncError('E_FLAG', '--token must not be empty (leave it out when the run has no token)');
  const token: string | undefined = o.token ?? (process.env.GRADSYNC_TOKEN || undefined);
  // Ring links go over TLS when the coordinator link does: the token travels on them too.
  const ringTls = url.protocol === 'wss:' ? await ephemeralIdentity(hostname()) : undefined;
  if (ringTls) log(`ring links over TLS; this worker's certificate (made for this process) has SHA-256 ${showFingerprint(ringTls.fingerprint)}`);
  const overlap = o.overlap === 'on' || (o.overlap === 'auto' && computesOnGpu(backend));
  if (overlap) log('all-reduce overlaps the backward pass: the ring runs on its own thread');
  const ring = await (overlap ? createThreadedRingProvider : createRingProvider)({ ...ringOptions, tls: ringTls, token, log });
  let interrupted = false;
  let link: Awaited<ReturnType<typeof connectToCoordinator>> | null = null;
  const stop = () => {
    interrupted = true;
    log('stopping on signal');
    link?.close(1001, 'worker interrupted');
    setTimeout(() => process.exit(130), 200);
  };
  process.once('SIGINT', stop);
  // Under a scheduler every process of a job gets the SIGTERM; the coordinator then needs this worker's state for its checkpoint.
  const drainSeconds: number | undefined = o.drainOnSigterm;
  // SLURM signals a task both through srun and directly, so a repeated SIGTERM is the same request.
  let draining = false;
  process.on('SIGTERM', () => {
    if (drainSeconds === undefined) return stop();
    if (draining) return;
    draining = true;
    log(`SIGTERM: staying up to ${drainSeconds} s for the coordinator's checkpoint and the run's end`);
    setTimeout(stop, drainSeconds * 1000).unref();
  });
  // One session per coordinator connection; when the coordinator vanishes (crash, restart with
  // --resume, network), reconnect with backoff and join again.
  for (;;) {
    const usage = new ProcessUsageSampler();
    const session = new WorkerSession({
      ring,
      log,
      identity: { host: hostname(), pid: process.pid },
      sampleUsage: () => usage.sample(),
      backend: backend.name,
      device: backend.device,
      token,
      localData,
    });
    link = await connectToCoordinator({
      url: url.toString(),
      connectTimeoutMs: o.connectTimeout * 1000,
      maxPayload: 1 << 30,
      heartbeatTimeoutMs: o.heartbeatTimeout * 1000,
      tls: serverCheck,
      log,
      onMessage: (m) => session.onMessage(m),
    });
    session.attach(link);
    const end = await session.ended;
    if (end.ok) break;
    if (!end.coordinatorLost || interrupted) {
      await ring.close();
      throw new GradsyncError('E_RUN', end.reason);
    }
    log(`${end.reason}; reconnecting (giving up after ${o.connectTimeout} s)`);
  }
  await ring.close();
  log('run finished; worker exiting');
  setTimeout(() => process.exit(0), 100).unref();
});
