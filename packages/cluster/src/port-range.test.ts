import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenInRange, parsePortRange } from './port-range';

describe('parsePortRange', () => {
  it('takes one port or an inclusive range', () => {
    expect(parsePortRange('7100')).toEqual({ first: 7100, last: 7100 });
    expect(parsePortRange(' 7100-7199 ')).toEqual({ first: 7100, last: 7199 });
    expect(parsePortRange('1-65535')).toEqual({ first: 1, last: 65535 });
  });

  it.each([
    ['', /not a number or range/],
    ['abc', /not a number or range/],
    ['7100-', /not a number or range/],
    ['7100-7200-7300', /not a number or range/],
    ['-5', /not a number or range/],
    ['0', /out of range/],
    ['7000-70000', /out of range/],
    ['7199-7100', /the range ends before it starts/],
  ])('refuses %j naming the source', (text, why) => {
    expect(() => parsePortRange(text, 'GRADSYNC_PEER_PORT')).toThrow(
      new RegExp(`^GRADSYNC_PEER_PORT must be a port or a range FIRST-LAST .*got "${text}": ${why.source}`),
    );
  });
});

describe('listenInRange (real sockets)', () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  const listen = (port: number) =>
    new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        servers.push(s);
        resolve(s);
      });
    });
  const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

  /** A range of `n` consecutive ports that were free a moment ago. */
  async function freeRange(n: number): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const base = 20000 + Math.floor(Math.random() * 40000);
      const probes = await Promise.allSettled(Array.from({ length: n }, (_, i) => listen(base + i)));
      await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
      if (probes.every((p) => p.status === 'fulfilled')) return base;
    }
    throw new Error('no free port range found');
  }

  it('each listener takes the next free port; a full range is an error naming it', async () => {
    const base = await freeRange(3);
    const range = { first: base, last: base + 2 };
    const taken = [];
    for (let i = 0; i < 3; i++) taken.push(portOf(await listenInRange(range, listen)));
    expect(taken).toEqual([base, base + 1, base + 2]);
    await expect(listenInRange(range, listen)).rejects.toThrow(`no free port for ring links in ${base}-${base + 2}: all 3 are in use`);
  });

  it('skips a port some other program holds; other errors are not retried', async () => {
    const base = await freeRange(2);
    await listen(base);
    expect(portOf(await listenInRange({ first: base, last: base + 1 }, listen))).toBe(base + 1);
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(Object.assign(new Error('permission denied'), { code: 'EACCES' }));
    };
    await expect(listenInRange({ first: base, last: base + 1 }, failing)).rejects.toThrow('permission denied');
    expect(calls).toBe(1);
  });

  it('without a range the OS picks a port', async () => {
    expect(portOf(await listenInRange(undefined, listen))).toBeGreaterThan(0);
  });
});
