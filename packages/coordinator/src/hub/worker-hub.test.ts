import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '@gradsync/protocol';
import { printable, type WorkerConnection, WorkerHub } from './worker-hub';

const hello = (token?: string) => ({ type: 'hello', v: 1, token, host: 'h', pid: 1, backend: 'cpu', device: 'CPU', peerUrl: null });

interface Harness {
  url: string;
  hub: WorkerHub;
  logs: string[];
  hellos: WorkerConnection[];
  messages: unknown[];
  close(): Promise<void>;
}

let open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.map((h) => h.close()));
  open = [];
});

async function harness(options: { token?: string; maxPayload?: number; helloTimeoutMs?: number; throwOnMessage?: boolean } = {}): Promise<Harness> {
  const server = http.createServer();
  const logs: string[] = [];
  const hellos: WorkerConnection[] = [];
  const messages: unknown[] = [];
  const hub = new WorkerHub(
    server,
    {
      onHello: (c) => {
        c.rank = hellos.length;
        hellos.push(c);
      },
      onMessage: (_c, m) => {
        if (options.throwOnMessage) throw new Error('handler bug');
        messages.push(m);
      },
      onGone: () => {},
      log: (level, line) => logs.push(`${level}: ${line}`),
    },
    { token: options.token, maxPayload: options.maxPayload ?? 1 << 20, helloTimeoutMs: options.helloTimeoutMs },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const h: Harness = {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/worker`,
    hub,
    logs,
    hellos,
    messages,
    close: async () => {
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  open.push(h);
  return h;
}

/** Opens a socket, sends `frames`, and resolves with how the server closed it. */
function exchange(url: string, frames: (Uint8Array | string)[]): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('error', () => {});
    ws.on('open', () => {
      for (const f of frames) ws.send(f, { binary: typeof f !== 'string' });
    });
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    setTimeout(() => reject(new Error('the server did not close the connection')), 5_000).unref();
  });
}

describe('WorkerHub', () => {
  it('refuses frames that make the message validator throw something other than a ProtocolError', async () => {
    const h = await harness();
    // `String(type)` on this object throws a TypeError inside the validator's error path.
    const closed = await exchange(h.url, [encode({ type: { toString: 1 } })]);
    expect(closed.code).toBe(1002);
    await expect.poll(() => h.logs.join('\n')).toMatch(/protocol error: .*invalid worker message of type object/);
  });

  it('cuts a long multi-byte close reason to what a close frame holds instead of throwing', async () => {
    const h = await harness();
    const closed = await exchange(h.url, [encode({ type: '€'.repeat(300) })]);
    expect(closed.code).toBe(1002);
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
    expect(closed.reason).toMatch(/^invalid worker message "€+/);
  });

  it('refuses text frames, messages before hello and a second hello, logging each', async () => {
    const h = await harness();
    expect((await exchange(h.url, ['{"type":"hello"}'])).code).toBe(1003);
    expect(await exchange(h.url, [encode({ type: 'failure', message: 'stop the run' })])).toEqual({ code: 1002, reason: "sent 'failure' before hello" });
    expect(await exchange(h.url, [encode(hello()), encode(hello())])).toEqual({ code: 1002, reason: 'second hello' });
    await expect.poll(() => h.logs.length).toBe(2); // the second hello came from a member: its end is the run's to report (onGone)
    const log = h.logs.join('\n');
    expect(log).toMatch(/connection \d+ from 127\.0\.0\.1:\d+: text frame: text frames are not part of the protocol \(1003\)/);
    expect(log).toMatch(/message before hello: sent 'failure' before hello \(1002\)/);
    expect(h.hellos).toHaveLength(1); // the first hello was fine
  });

  it('checks the token: missing and wrong ones are refused with 4001 and the reason, the right one is admitted', async () => {
    const h = await harness({ token: 's3cret' });
    expect(await exchange(h.url, [encode(hello())])).toEqual({ code: 4001, reason: 'refused: missing token (--token / GRADSYNC_TOKEN)' });
    expect(await exchange(h.url, [encode(hello('s3cret!'))])).toEqual({ code: 4001, reason: 'refused: wrong token (--token / GRADSYNC_TOKEN)' });
    expect(await exchange(h.url, [encode(hello('S3CRET'))])).toMatchObject({ code: 4001 });
    expect(h.hellos).toHaveLength(0);
    const ws = new WebSocket(h.url, { perMessageDeflate: false });
    await new Promise((r) => ws.once('open', r));
    ws.send(encode(hello('s3cret')));
    await expect.poll(() => h.hellos.length).toBe(1);
    ws.close();
    await expect.poll(() => h.logs.filter((l) => /(wrong|missing) token/.test(l)).length).toBe(3);
  });

  it('closes a frame above maxPayload with 1009', async () => {
    const h = await harness({ maxPayload: 4096 });
    const closed = await exchange(h.url, [new Uint8Array(4097)]);
    expect(closed.code).toBe(1009);
    await expect.poll(() => h.logs.join('\n')).toMatch(/frame too large: Max payload size exceeded/);
  });

  it('closes a connection that says nothing within the hello timeout', async () => {
    const h = await harness({ helloTimeoutMs: 200 });
    expect(await exchange(h.url, [])).toEqual({ code: 1008, reason: 'no hello within 0.2 s' });
  });

  it('a handler that throws ends that connection with 1011, not the process', async () => {
    const h = await harness({ throwOnMessage: true });
    const closed = await exchange(h.url, [encode(hello()), encode({ type: 'ready', phase: 'data' })]);
    expect(closed.code).toBe(1011);
    await expect.poll(() => h.logs.join('\n')).toMatch(/internal error/);
    expect(h.logs.join('\n')).toMatch(/internal error handling rank 0 .*handler bug/);
  });

  it('logs the first refusals one by one and sums up the rest', async () => {
    const h = await harness();
    for (let i = 0; i < 25; i++) await exchange(h.url, [new Uint8Array([0xc1, i])]);
    await expect.poll(() => h.hub.refusalCounts.get('protocol error')).toBe(25);
    await h.close();
    open = [];
    const detailed = h.logs.filter((l) => /protocol error/.test(l) && !/more worker connection/.test(l));
    expect(detailed).toHaveLength(3);
    expect(h.logs.at(-1)).toMatch(/^warn: refused 22 more worker connection\(s\) in the last 10 s: 22 protocol error$/);
    expect(h.hub.refusalCounts.get('protocol error')).toBe(25);
  });
});

describe('printable', () => {
  it('printable escapes control characters (no forged log lines) and caps the length', () => {
    expect(printable('a\nworker joined: rank 0\r\u0000')).toBe('a\\u000aworker joined: rank 0\\u000d\\u0000');
    expect(printable('x'.repeat(500), 10)).toBe('xxxxxxxxxx… (500 characters)');
  });
});
