/**
 * `pnpm start --join URL --workers N`: this machine runs N workers for a coordinator elsewhere
 * (the per-node launcher of a multi-machine run), no coordinator of its own.
 */
import { type Command, Option } from 'commander';
import { GradsyncError } from '@gradsync/core';
import {
  addClientTlsOptions,
  addPeerOptions,
  allowListFrom,
  CLUSTER_ENV,
  formatPortRange,
  parseCoordinatorUrl,
  peerPortFrom,
  serverCheckFrom,
  stringFrom,
} from '@gradsync/cluster';
import { runToken } from './run-options';
import { planLocalWorkers } from './local-workers';
import { spawnWorkers } from './worker-processes';

/** --join, the ring-link flags and how to check a TLS coordinator (--ca, --tls-fingerprint), for `pnpm start`. */
export function addJoinOptions(program: Command): Command {
  return addClientTlsOptions(
    addPeerOptions(
      program.addOption(
        new Option('--join [url]', `start only local workers, for the coordinator at URL on another machine (no URL: $${CLUSTER_ENV.coordinator})`),
      ),
    ),
  );
}

/** The flags that mean something to a joining node; every other flag of `pnpm start` configures a coordinator. */
const JOIN_FLAGS = new Set(['join', 'workers', 'workerBackend', 'threads', 'token', 'allow', 'peerHost', 'advertiseHost', 'peerPort', 'ca', 'tlsFingerprint']);

export interface JoinPlan {
  /** The coordinator's ws:// URL. */
  url: string;
  /** The worker CLI's arguments, one list per local worker. */
  args: string[][];
  /** How the threads were chosen, for the start line. */
  threadsWhy: string;
}

/** Checks the flags and plans the local workers' command lines; nothing is started. */
export function planJoin(program: Command, o: { workers: number; gpus: number; env?: NodeJS.ProcessEnv; cores?: number }): JoinPlan {
  const flags = program.opts();
  const ignored = program.options.filter((opt) => !JOIN_FLAGS.has(opt.attributeName()) && program.getOptionValueSource(opt.attributeName()) === 'cli');
  if (ignored.length > 0) {
    const names = ignored.map((opt) => opt.long).join(', ');
    throw new GradsyncError(
      'E_FLAG',
      `${names} ${ignored.length === 1 ? 'has' : 'have'} no effect with --join: the coordinator sets up the run (give ${ignored.length === 1 ? 'it' : 'them'} to the coordinator)`,
    );
  }
  const fromEnv = flags.join === true;
  const raw = fromEnv ? (o.env ?? process.env)[CLUSTER_ENV.coordinator] : (flags.join as string);
  if (!raw) throw new GradsyncError('E_FLAG', `--join needs the coordinator's address: --join ws://HOST:PORT, or set ${CLUSTER_ENV.coordinator}`);
  const url = parseCoordinatorUrl(raw, fromEnv ? CLUSTER_ENV.coordinator : '--join').toString();

  const peerPort = peerPortFrom(program);
  const portCount = peerPort ? peerPort.last - peerPort.first + 1 : Infinity;
  if (portCount < o.workers) {
    throw new GradsyncError(
      'E_FLAG',
      `--peer-port ${formatPortRange(peerPort!)} has ${portCount} port(s) for ${o.workers} local workers: give a range of at least ${o.workers} (e.g. ${peerPort!.first}-${peerPort!.first + o.workers - 1})`,
    );
  }
  const allow = allowListFrom(program);
  // Checked here (a contradiction, an unreadable CA file, a malformed fingerprint) before any worker starts.
  const serverCheck = serverCheckFrom(program);
  if (serverCheck && !url.startsWith('wss:')) {
    throw new GradsyncError('E_FLAG', `--ca and --tls-fingerprint check a TLS coordinator: use a wss:// --join URL, got ${url}`);
  }
  const ca = stringFrom(program, 'ca');
  const fingerprint = stringFrom(program, 'tlsFingerprint');
  const peerHost = stringFrom(program, 'peerHost');
  const advertiseHost = stringFrom(program, 'advertiseHost');
  const peerArgs = [
    ...(peerPort ? ['--peer-port', formatPortRange(peerPort)] : []),
    ...(peerHost ? ['--peer-host', peerHost] : []),
    ...(advertiseHost ? ['--advertise-host', advertiseHost] : []),
    ...(ca ? ['--ca', ca] : []),
    ...(fingerprint ? ['--tls-fingerprint', fingerprint] : []),
    // Variadic: last.
    ...(allow ? ['--allow', ...allow.ranges] : []),
  ];
  const plan = planLocalWorkers({ workers: o.workers, gpus: o.gpus, workerUrl: url, backend: flags.workerBackend, threads: flags.threads, cores: o.cores });
  return { url, args: plan.args.map((a) => [...a, ...peerArgs]), threadsWhy: `${plan.threads} CPU thread(s) each for onednn: ${plan.threadsWhy}` };
}

/** Runs the planned workers until all have exited; fails naming every worker that did not finish cleanly. */
export async function joinCoordinator(
  program: Command,
  o: { workers: number; gpus: number; log: (level: 'info' | 'warn', line: string) => void },
): Promise<void> {
  const plan = planJoin(program, o);
  const token = runToken(program.opts().token);
  o.log(
    'info',
    `joining ${plan.url} with ${o.workers} local worker(s) (${o.gpus > 0 ? `${o.gpus} GPU(s) visible` : 'no GPU visible: CPU workers'}; ${plan.threadsWhy})`,
  );
  // The token travels in the environment, never on a command line others can read.
  const workers = spawnWorkers(plan.args, { ...process.env, GRADSYNC_TOKEN: token ?? '' });
  const onSignal = (signal: NodeJS.Signals) => {
    o.log('warn', `${signal}: stopping the local workers`);
    workers.signal('SIGTERM');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const exits = await workers.exited;
  const failed = exits.filter((e) => e.code !== 0);
  if (failed.length > 0) {
    const what = failed.map(
      (e) => `worker ${e.index} ${e.signal ? `killed by ${e.signal}` : e.code === null ? 'could not start' : `exited with code ${e.code}`}`,
    );
    throw new GradsyncError('E_RUN', `${failed.length} of ${o.workers} local worker(s) failed: ${what.join(', ')}`);
  }
  o.log('info', `all ${o.workers} local worker(s) finished`);
}

/** Without --join the workers are local and link over loopback: the ring-link flags would do nothing. */
export function refusePeerFlagsWithoutJoin(program: Command): void {
  const given = ['peerPort', 'peerHost', 'advertiseHost', 'ca', 'tlsFingerprint'].filter((k) => program.getOptionValueSource(k) === 'cli');
  if (given.length > 0) {
    const names = program.options.filter((opt) => given.includes(opt.attributeName())).map((opt) => opt.long);
    throw new GradsyncError(
      'E_FLAG',
      `${names.join(', ')} only ${names.length === 1 ? 'applies' : 'apply'} with --join (workers for a coordinator on another machine); here the workers link over loopback`,
    );
  }
}
