import { describe, expect, it } from 'vitest';
import { planLocalWorkers } from './local-workers';

const base = { workerUrl: 'ws://127.0.0.1:7070/worker', backend: 'auto' };

describe('planLocalWorkers', () => {
  it('CPU workers share the cores out by default', () => {
    const plan = planLocalWorkers({ ...base, workers: 2, gpus: 0, cores: 8 });
    expect(plan.threads).toBe(4);
    expect(plan.threadsWhy).toBe('8 core(s) / 2 worker(s)');
    expect(plan.args).toEqual([
      ['--coordinator', base.workerUrl, '--backend', 'auto', '--cpu', '--threads', '4'],
      ['--coordinator', base.workerUrl, '--backend', 'auto', '--cpu', '--threads', '4'],
    ]);
  });

  it('rounds down and never goes below one thread', () => {
    expect(planLocalWorkers({ ...base, workers: 3, gpus: 0, cores: 8 }).threads).toBe(2);
    expect(planLocalWorkers({ ...base, workers: 4, gpus: 0, cores: 2 }).threads).toBe(1);
    expect(planLocalWorkers({ ...base, workers: 1, gpus: 0, cores: 2 }).threads).toBe(2);
  });

  it('--threads wins over the default', () => {
    const plan = planLocalWorkers({ ...base, workers: 2, gpus: 0, cores: 8, threads: 3, backend: 'onednn' });
    expect(plan.threads).toBe(3);
    expect(plan.threadsWhy).toBe('--threads');
    for (const args of plan.args) expect(args).toEqual(['--coordinator', base.workerUrl, '--backend', 'onednn', '--cpu', '--threads', '3']);
  });

  it('a list of backends: worker i takes entry i, the last one for the rest', () => {
    const plan = planLocalWorkers({ ...base, workers: 3, gpus: 0, cores: 2, backend: ['onednn', 'wasm'] });
    expect(plan.args.map((a) => a[3])).toEqual(['onednn', 'wasm', 'wasm']);
  });

  it('one worker per visible GPU, the rest on the CPU', () => {
    const plan = planLocalWorkers({ ...base, workers: 3, gpus: 2, cores: 12 });
    expect(plan.args.map((a) => a.slice(4))).toEqual([
      ['--gpu', '0', '--threads', '4'],
      ['--gpu', '1', '--threads', '4'],
      ['--cpu', '--threads', '4'],
    ]);
  });
});
