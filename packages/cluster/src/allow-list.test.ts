import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseAllowList } from './allow-list';
import { refuseOutsiders } from './connection-guard';

describe('parseAllowList', () => {
  it('no ranges: no list (everyone may connect)', () => {
    expect(parseAllowList([])).toBeNull();
    expect(parseAllowList([' ', ''])).toBeNull();
  });

  it('matches CIDR ranges and single addresses, IPv4 and IPv6, split on commas and spaces', () => {
    const allow = parseAllowList(['10.213.0.0/28, 192.168.1.7', 'fd00::/64'])!;
    expect(allow.ranges).toEqual(['10.213.0.0/28', '192.168.1.7', 'fd00::/64']);
    expect(allow.allows('10.213.0.1')).toBe(true);
    expect(allow.allows('10.213.0.15')).toBe(true);
    expect(allow.allows('10.213.0.16')).toBe(false);
    expect(allow.allows('192.168.1.7')).toBe(true);
    expect(allow.allows('192.168.1.8')).toBe(false);
    expect(allow.allows('fd00::1234')).toBe(true);
    expect(allow.allows('fd01::1')).toBe(false);
    // IPv4 peers of a dual-stack listener
    expect(allow.allows('::ffff:10.213.0.2')).toBe(true);
    expect(allow.allows('::ffff:10.213.0.200')).toBe(false);
    expect(allow.allows(undefined)).toBe(false);
    expect(allow.allows('not-an-address')).toBe(false);
  });

  it('loopback (this machine) is always allowed', () => {
    const allow = parseAllowList(['10.0.0.0/8'])!;
    expect(allow.allows('127.0.0.1')).toBe(true);
    expect(allow.allows('::ffff:127.0.0.1')).toBe(true);
    expect(allow.allows('::1')).toBe(true);
  });

  it.each([
    ['10.0.0/8', /"10\.0\.0" is not an IPv4 or IPv6 address/],
    ['10.0.0.0/33', /the prefix length must be 0 to 32/],
    ['fd00::/129', /the prefix length must be 0 to 128/],
    ['10.0.0.0/8/9', /more than one/],
    ['example.com', /"example\.com" is not an IPv4 or IPv6 address/],
  ])('refuses %j naming the source and the entry', (entry, why) => {
    expect(() => parseAllowList(['10.0.0.0/8', entry], 'GRADSYNC_ALLOW')).toThrow(
      new RegExp(`^GRADSYNC_ALLOW: "${entry.replace(/[./]/g, '\\$&')}" is not an address range: ${why.source}`),
    );
  });
});

describe('refuseOutsiders (real sockets)', () => {
  async function connectTo(server: net.Server, from: string): Promise<string> {
    const { port } = server.address() as net.AddressInfo;
    return new Promise((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
      let got = '';
      socket.on('data', (d) => (got += d));
      socket.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
      socket.on('close', () => resolve(got === '' ? 'closed' : got));
    });
  }

  it('destroys connections from outside the list before the server sees them, and reports the address', async () => {
    // Loopback exempted from the rule, 127.0.0.3 plays a host elsewhere and 127.0.0.2 an allowed one.
    const allow = parseAllowList(['127.0.0.2/32'], '--allow', { loopbackAlways: false })!;
    const server = net.createServer((s) => s.end('welcome'));
    const refused: string[] = [];
    refuseOutsiders(server, allow, (a) => refused.push(a));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      expect(await connectTo(server, '127.0.0.2')).toBe('welcome');
      expect(await connectTo(server, '127.0.0.3')).toMatch(/^(closed|error ECONNRESET)$/);
      expect(refused).toEqual(['127.0.0.3']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
