/**
 * Where this process stands in a job a cluster engine started: SLURM (srun/sbatch) or a Kubernetes
 * Indexed Job. Every task reads the same facts from its own environment, so no job script has to
 * compute a rank, a world size or the coordinator's address.
 */
import { GradsyncError } from '@gradsync/core';
import { expandHostList } from './host-list';

export interface SchedulerTask {
  engine: 'slurm' | 'kubernetes';
  /** This task among all of the job's, from 0; task 0 runs the coordinator. */
  rank: number;
  world: number;
  /** This task among those on its node, from 0. */
  localRank: number;
  /** The host task 0 runs on: where every worker connects. */
  coordinatorHost: string;
  /** The job's hosts, when the engine lists them (SLURM); one means every task shares this machine. */
  nodes: string[];
  /** The job's id (SLURM_JOB_ID, or the Kubernetes job name): names the run folder. */
  jobId: string;
  /** How often the engine restarted the job (SLURM_RESTART_COUNT): above 0, the run resumes. */
  restarts: number;
  /** CPU cores given to this task, when the engine says (SLURM_CPUS_PER_TASK). */
  cpusPerTask?: number;
}

function int(env: NodeJS.ProcessEnv, name: string, min: number): number {
  const raw = env[name];
  const n = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw.trim()) || n < min) {
    throw new GradsyncError(
      'E_SCHEDULER_ENV',
      `${name} must be an integer ≥ ${min} in the job's environment, got ${raw === undefined ? 'nothing' : `"${raw}"`}`,
    );
  }
  return n;
}

function slurmTask(env: NodeJS.ProcessEnv): SchedulerTask {
  const world = int(env, 'SLURM_NTASKS', 1);
  const rank = int(env, 'SLURM_PROCID', 0);
  if (rank >= world) throw new GradsyncError('E_SCHEDULER_ENV', `SLURM_PROCID ${rank} is not below SLURM_NTASKS ${world}`);
  const nodeList = env.SLURM_JOB_NODELIST ?? env.SLURM_NODELIST;
  if (!nodeList) throw new GradsyncError('E_SCHEDULER_ENV', 'SLURM_JOB_NODELIST is not set: is this a task started by srun or sbatch?');
  const nodes = expandHostList(nodeList);
  const cpus = env.SLURM_CPUS_PER_TASK === undefined ? undefined : int(env, 'SLURM_CPUS_PER_TASK', 1);
  return {
    engine: 'slurm',
    rank,
    world,
    localRank: env.SLURM_LOCALID === undefined ? 0 : int(env, 'SLURM_LOCALID', 0),
    // SLURM places task 0 on the first node of the allocation.
    coordinatorHost: nodes[0]!,
    nodes,
    jobId: env.SLURM_JOB_ID ?? env.SLURM_JOBID ?? 'slurm-job',
    restarts: env.SLURM_RESTART_COUNT === undefined ? 0 : int(env, 'SLURM_RESTART_COUNT', 0),
    ...(cpus !== undefined && { cpusPerTask: cpus }),
  };
}

/**
 * A Kubernetes Indexed Job (examples/kubernetes): JOB_COMPLETION_INDEX is the rank; the manifest
 * sets GRADSYNC_WORLD_SIZE (its completions) and GRADSYNC_COORDINATOR_HOST (pod 0's name under
 * the headless service). One pod per task, so the local rank is 0.
 */
function kubernetesTask(env: NodeJS.ProcessEnv): SchedulerTask {
  const rank = int(env, 'JOB_COMPLETION_INDEX', 0);
  const world = int(env, 'GRADSYNC_WORLD_SIZE', 1);
  if (rank >= world) throw new GradsyncError('E_SCHEDULER_ENV', `JOB_COMPLETION_INDEX ${rank} is not below GRADSYNC_WORLD_SIZE ${world}`);
  const host = env.GRADSYNC_COORDINATOR_HOST;
  if (!host) throw new GradsyncError('E_SCHEDULER_ENV', "GRADSYNC_COORDINATOR_HOST is not set: the manifest names pod 0's host (<job>-0.<service>)");
  return { engine: 'kubernetes', rank, world, localRank: 0, coordinatorHost: host, nodes: [], jobId: env.GRADSYNC_JOB_NAME ?? 'k8s-job', restarts: 0 };
}

/** This task's place in the job, or null when no cluster engine started this process. */
export function schedulerTask(env: NodeJS.ProcessEnv = process.env): SchedulerTask | null {
  if (env.SLURM_PROCID !== undefined && env.SLURM_NTASKS !== undefined) return slurmTask(env);
  if (env.JOB_COMPLETION_INDEX !== undefined) return kubernetesTask(env);
  return null;
}
