import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { addRunOptions } from './run-options';
import { addJoinOptions, planJoin, refusePeerFlagsWithoutJoin } from './join-workers';

/** The flags of `pnpm start` (cli/start.ts), parsed from `args`. */
function startFlags(args: string[]): Command {
  const program = addJoinOptions(
    addRunOptions(
      new Command('pnpm start')
        .exitOverride()
        .option('--workers <n>', 'local workers', Number)
        .addOption(new Option('--worker-backend <name>', 'backend').default('auto'))
        .option('--threads <n>', 'threads', Number),
    ),
  );
  return program.parse(args, { from: 'user' });
}

describe('planJoin', () => {
  it('plans one worker command line per local worker with the ring-link flags; GPUs first', () => {
    const program = startFlags([
      '--join',
      'ws://10.0.0.1:7070',
      '--peer-port',
      '7100-7103',
      '--advertise-host',
      'node-b',
      '--allow',
      '10.0.0.0/24',
      '10.0.1.5',
    ]);
    const plan = planJoin(program, { workers: 3, gpus: 1, env: {}, cores: 6 });
    expect(plan.url).toBe('ws://10.0.0.1:7070/worker');
    const tail = ['--peer-port', '7100-7103', '--advertise-host', 'node-b', '--allow', '10.0.0.0/24', '10.0.1.5'];
    expect(plan.args).toEqual([
      ['--coordinator', 'ws://10.0.0.1:7070/worker', '--backend', 'auto', '--gpu', '0', '--threads', '2', ...tail],
      ['--coordinator', 'ws://10.0.0.1:7070/worker', '--backend', 'auto', '--cpu', '--threads', '2', ...tail],
      ['--coordinator', 'ws://10.0.0.1:7070/worker', '--backend', 'auto', '--cpu', '--threads', '2', ...tail],
    ]);
  });

  it('a bare --join takes GRADSYNC_COORDINATOR; without it, an error says what to give', () => {
    expect(planJoin(startFlags(['--join']), { workers: 1, gpus: 0, env: { GRADSYNC_COORDINATOR: 'head:7070' } }).url).toBe('ws://head:7070/worker');
    expect(() => planJoin(startFlags(['--join']), { workers: 1, gpus: 0, env: {} })).toThrow(
      "--join needs the coordinator's address: --join ws://HOST:PORT, or set GRADSYNC_COORDINATOR",
    );
    expect(() => planJoin(startFlags(['--join']), { workers: 1, gpus: 0, env: { GRADSYNC_COORDINATOR: 'http://head:7070' } })).toThrow(
      'GRADSYNC_COORDINATOR must be a ws:// or wss:// URL, got "http://head:7070"',
    );
  });

  it('coordinator flags are refused with --join, naming them', () => {
    expect(() => planJoin(startFlags(['--join', 'ws://h:1', '--epochs', '3', '--port', '7000']), { workers: 1, gpus: 0 })).toThrow(
      /^--epochs, --port have no effect with --join: the coordinator sets up the run/,
    );
  });

  it('a port range smaller than the local workers is refused', () => {
    expect(() => planJoin(startFlags(['--join', 'ws://h:1', '--peer-port', '7100-7101']), { workers: 3, gpus: 0 })).toThrow(
      '--peer-port 7100-7101 has 2 port(s) for 3 local workers: give a range of at least 3 (e.g. 7100-7102)',
    );
  });

  it('passes --tls-fingerprint (or --ca) on to the workers of a TLS coordinator; refuses it for a plain one', () => {
    const fp = 'ab'.repeat(32);
    const plan = planJoin(startFlags(['--join', 'wss://10.0.0.1:7070', '--tls-fingerprint', fp]), { workers: 1, gpus: 0, env: {}, cores: 2 });
    expect(plan.args[0].slice(-2)).toEqual(['--tls-fingerprint', fp]);
    expect(() => planJoin(startFlags(['--join', 'ws://10.0.0.1:7070', '--tls-fingerprint', fp]), { workers: 1, gpus: 0, env: {} })).toThrow(
      /use a wss:\/\/ --join URL/,
    );
    expect(() => planJoin(startFlags(['--join', 'wss://10.0.0.1:7070', '--tls-fingerprint', 'nope']), { workers: 1, gpus: 0, env: {} })).toThrow(
      /--tls-fingerprint/,
    );
  });

  it('ring-link and TLS-check flags without --join are refused', () => {
    expect(() => refusePeerFlagsWithoutJoin(startFlags(['--peer-port', '7100']))).toThrow(/^--peer-port only applies with --join/);
    expect(() => refusePeerFlagsWithoutJoin(startFlags(['--tls-fingerprint', 'ab'.repeat(32)]))).toThrow(/^--tls-fingerprint only applies with --join/);
    expect(() => refusePeerFlagsWithoutJoin(startFlags(['--workers', '2']))).not.toThrow();
  });
});
