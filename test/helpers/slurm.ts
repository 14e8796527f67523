/**
 * A real one-node SLURM for tests: munged, slurmctld and slurmd (Debian's munge and slurm-wlm)
 * started as plain background processes with their own key, ports, state and logs in a temporary
 * folder (no systemd, nothing of the machine's own configuration), and stopped again.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { tempDir } from './runs';

export interface Slurm {
  /** Environment for sbatch, squeue, scancel and scontrol: SLURM_CONF pointing at this cluster. */
  env: NodeJS.ProcessEnv;
  /** Submits a batch script; returns the job id. */
  sbatch(args: string[]): string;
  /** Waits (bounded) until the job has left the queue; returns its final state. */
  waitForEnd(jobId: string, timeoutMs: number): Promise<string>;
  /** Waits (bounded) until `pattern` appears in `file`. */
  waitForText(file: string, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  stop(): void;
}

const DAEMONS = ['munged', 'slurmctld', 'slurmd'];

/** Why a real SLURM cannot run here, or null when it can. */
export function slurmUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'slurmd must run as root';
  for (const tool of [...DAEMONS, 'sbatch']) {
    if (spawnSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return null;
}

function daemon(name: string): string {
  return existsSync(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : name;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts the three daemons and waits until the node takes jobs. */
export async function startSlurm(ports: { controller: number; node: number }): Promise<Slurm> {
  const dir = tempDir('slurm');
  for (const sub of ['munge', 'state', 'spool', 'log', 'run']) mkdirSync(path.join(dir, sub), { recursive: true });
  chmodSync(path.join(dir, 'munge'), 0o700);
  const key = path.join(dir, 'munge', 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  const socket = path.join(dir, 'run', 'munge.sock');
  const host = hostname();
  const conf = path.join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=gradsynctest',
      `SlurmctldHost=${host}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CryptoType=crypto/munge',
      `AuthInfo=socket=${socket}`,
      'MpiDefault=none',
      // No cgroups: plain processes, as these machines run them.
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      `SlurmctldPort=${ports.controller}`,
      `SlurmdPort=${ports.node}`,
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/run/slurmctld.pid`,
      `SlurmdPidFile=${dir}/run/slurmd.pid`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      'ReturnToService=2',
      // scancel's SIGTERM, then SIGKILL after this long: the tasks' time to stop cleanly.
      'KillWait=20',
      `NodeName=${host} CPUs=2 State=UNKNOWN`,
      'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const pidFiles: string[] = [];
  const run = (cmd: string, args: string[], pidFile: string) => {
    execFileSync(daemon(cmd), args, { env, stdio: 'pipe' });
    pidFiles.push(pidFile);
  };
  const stop = () => {
    spawnSync('scancel', ['--full', '--user=root'], { env });
    for (const file of pidFiles.reverse()) {
      try {
        process.kill(Number(readFileSync(file, 'utf8').trim()), 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  try {
    const munged = path.join(dir, 'run', 'munged.pid');
    run(
      'munged',
      [`--key-file=${key}`, `--socket=${socket}`, `--pid-file=${munged}`, `--log-file=${dir}/log/munged.log`, `--seed-file=${dir}/run/munge.seed`, '-f'],
      munged,
    );
    run('slurmctld', ['-f', conf], path.join(dir, 'run', 'slurmctld.pid'));
    run('slurmd', ['-f', conf], path.join(dir, 'run', 'slurmd.pid'));
    for (let i = 0; ; i++) {
      const state = spawnSync('sinfo', ['-h', '-o', '%t'], { env }).stdout?.toString().trim();
      if (state === 'idle') break;
      if (i >= 60) throw new Error(`the test SLURM node is "${state}" after 30 s:\n${readFileSync(`${dir}/log/slurmctld.log`, 'utf8').slice(-2000)}`);
      await sleep(500);
    }
  } catch (err) {
    stop();
    throw err;
  }
  return {
    env,
    sbatch: (args) =>
      execFileSync('sbatch', ['--parsable', ...args], { env, cwd: dir })
        .toString()
        .trim(),
    async waitForEnd(jobId, timeoutMs) {
      for (const start = Date.now(); Date.now() - start < timeoutMs; await sleep(500)) {
        const queued = spawnSync('squeue', ['-h', '-j', jobId], { env }).stdout?.toString().trim();
        if (!queued) {
          const shown = spawnSync('scontrol', ['show', 'job', jobId], { env }).stdout?.toString() ?? '';
          return /JobState=(\S+)/.exec(shown)?.[1] ?? 'GONE';
        }
      }
      throw new Error(`job ${jobId} still queued or running after ${timeoutMs} ms`);
    },
    async waitForText(file, pattern, timeoutMs) {
      for (const start = Date.now(); Date.now() - start < timeoutMs; await sleep(250)) {
        const m = existsSync(file) ? pattern.exec(readFileSync(file, 'utf8')) : null;
        if (m) return m;
      }
      throw new Error(`no ${pattern} in ${file} after ${timeoutMs} ms:\n${existsSync(file) ? readFileSync(file, 'utf8').slice(-2000) : '(no file)'}`);
    },
    stop,
  };
}
