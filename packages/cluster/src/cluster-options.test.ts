import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addPeerOptions, allowListFrom, allowOption, peerPortFrom, stringFrom } from './cluster-options';

function parse(args: string[], env: Record<string, string> = {}): Command {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  const program = addPeerOptions(new Command('t').exitOverride()).addOption(allowOption('ring links'));
  program.parse(args, { from: 'user' });
  return program;
}

describe('cluster options from flags and the environment', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('nothing given: no port range, no allow-list, no hosts', () => {
    const p = parse([]);
    expect(peerPortFrom(p)).toBeUndefined();
    expect(allowListFrom(p)).toBeNull();
    expect(stringFrom(p, 'peerHost')).toBeUndefined();
  });

  it('the environment alone configures a node', () => {
    const p = parse([], {
      GRADSYNC_PEER_PORT: '7100-7107',
      GRADSYNC_ALLOW: '10.1.0.0/16,10.2.0.0/16',
      GRADSYNC_ADVERTISE_HOST: 'node7',
      GRADSYNC_PEER_HOST: '0.0.0.0',
    });
    expect(peerPortFrom(p)).toEqual({ first: 7100, last: 7107 });
    expect(allowListFrom(p)!.ranges).toEqual(['10.1.0.0/16', '10.2.0.0/16']);
    expect(stringFrom(p, 'advertiseHost')).toBe('node7');
    expect(stringFrom(p, 'peerHost')).toBe('0.0.0.0');
  });

  it('a flag wins over its variable; --allow takes several ranges', () => {
    const p = parse(['--peer-port', '7200', '--allow', '10.0.0.0/8', '192.168.1.7'], { GRADSYNC_PEER_PORT: '7100-7107', GRADSYNC_ALLOW: '172.16.0.0/12' });
    expect(peerPortFrom(p)).toEqual({ first: 7200, last: 7200 });
    expect(allowListFrom(p)!.ranges).toEqual(['10.0.0.0/8', '192.168.1.7']);
  });

  it('an empty variable counts as unset', () => {
    const p = parse([], { GRADSYNC_PEER_PORT: '', GRADSYNC_ALLOW: '', GRADSYNC_PEER_HOST: '' });
    expect(peerPortFrom(p)).toBeUndefined();
    expect(allowListFrom(p)).toBeNull();
    expect(stringFrom(p, 'peerHost')).toBeUndefined();
  });

  it('a bad value names where it came from', () => {
    expect(() => peerPortFrom(parse([], { GRADSYNC_PEER_PORT: '71OO' }))).toThrow(/^GRADSYNC_PEER_PORT must be a port or a range/);
    expect(() => peerPortFrom(parse(['--peer-port', '9-1']))).toThrow(/^--peer-port must be a port or a range.*the range ends before it starts/);
    expect(() => allowListFrom(parse([], { GRADSYNC_ALLOW: '10.0.0.0/40' }))).toThrow(/^GRADSYNC_ALLOW: "10\.0\.0\.0\/40" is not an address range/);
    expect(() => allowListFrom(parse(['--allow', 'lan']))).toThrow(/^--allow: "lan" is not an address range/);
  });
});
