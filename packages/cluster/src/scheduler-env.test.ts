import { describe, expect, it } from 'vitest';
import { schedulerTask } from './scheduler-env';

const SLURM = { SLURM_PROCID: '2', SLURM_NTASKS: '4', SLURM_LOCALID: '0', SLURM_JOB_NODELIST: 'gpu[07-08]', SLURM_JOB_ID: '4242' };

describe('a task of a cluster job', () => {
  it('is nothing outside a job', () => {
    expect(schedulerTask({ HOME: '/root' })).toBeNull();
  });

  it('reads SLURM: rank, world, local rank, the first node as the coordinator, the job id and restarts', () => {
    expect(schedulerTask(SLURM)).toEqual({
      engine: 'slurm',
      rank: 2,
      world: 4,
      localRank: 0,
      coordinatorHost: 'gpu07',
      nodes: ['gpu07', 'gpu08'],
      jobId: '4242',
      restarts: 0,
    });
    expect(schedulerTask({ ...SLURM, SLURM_RESTART_COUNT: '1', SLURM_CPUS_PER_TASK: '8' })).toMatchObject({ restarts: 1, cpusPerTask: 8 });
  });

  it('names a SLURM variable that is missing or wrong', () => {
    expect(() => schedulerTask({ ...SLURM, SLURM_NTASKS: 'four' })).toThrow(/SLURM_NTASKS must be an integer ≥ 1 in the job's environment, got "four"/);
    expect(() => schedulerTask({ ...SLURM, SLURM_PROCID: '4' })).toThrow(/SLURM_PROCID 4 is not below SLURM_NTASKS 4/);
    expect(() => schedulerTask({ ...SLURM, SLURM_JOB_NODELIST: undefined })).toThrow(/SLURM_JOB_NODELIST is not set/);
    expect(() => schedulerTask({ ...SLURM, SLURM_JOB_NODELIST: 'gpu[07-' })).toThrow(/host list "gpu\[07-"/);
  });

  it('reads a Kubernetes Indexed Job as its manifest sets it', () => {
    const pod = { JOB_COMPLETION_INDEX: '1', GRADSYNC_WORLD_SIZE: '3', GRADSYNC_COORDINATOR_HOST: 'train-0.train', GRADSYNC_JOB_NAME: 'train' };
    expect(schedulerTask(pod)).toEqual({
      engine: 'kubernetes',
      rank: 1,
      world: 3,
      localRank: 0,
      coordinatorHost: 'train-0.train',
      nodes: [],
      jobId: 'train',
      restarts: 0,
    });
    expect(() => schedulerTask({ ...pod, GRADSYNC_COORDINATOR_HOST: undefined })).toThrow(/GRADSYNC_COORDINATOR_HOST is not set/);
  });
});
