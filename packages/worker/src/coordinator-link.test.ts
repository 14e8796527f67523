import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { GradsyncError } from '@gradsync/core';
import { CLOSE, type CoordinatorMessage, decode, encodeMessage } from '@gradsync/protocol';
import { connectToCoordinator, type ConnectOptions } from './coordinator-link';

/** A stand-in coordinator on loopback: the test decides what it sends. */
async function fakeCoordinator() {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const sockets: WebSocket[] = [];
  const received: unknown[] = [];
  server.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data: Buffer) => received.push(decode(data)));
  });
  const connection = async () => {
    while (sockets.length === 0) await new Promise((r) => setTimeout(r, 5));
    return sockets[0];
  };
  return { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`, received, connection, close: () => new Promise((r) => server.close(r)) };
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

async function linkTo(url: string, extra: Partial<ConnectOptions> = {}) {
  const messages: CoordinatorMessage[] = [];
  const logs: string[] = [];
  const link = await connectToCoordinator({
    url,
    connectTimeoutMs: 5_000,
    maxPayload: 1 << 20,
    log: (l) => logs.push(l),
    onMessage: (m) => messages.push(m),
    ...extra,
  });
  cleanup.push(async () => link.close());
  return { link, messages, logs };
}

describe('connectToCoordinator', () => {
  it('delivers valid messages in order and sends encoded ones', async () => {
    const c = await fakeCoordinator();
    cleanup.push(c.close);
    const { link, messages } = await linkTo(c.url);
    const ws = await c.connection();
    ws.send(encodeMessage({ type: 'abort', reason: 'one' }));
    ws.send(encodeMessage({ type: 'star-sum', op: 2, data: new Uint8Array(4) }));
    link.send({ type: 'failure', message: 'hi' });
    await expect.poll(() => messages.length).toBe(2);
    expect(messages.map((m) => m.type)).toEqual(['abort', 'star-sum']);
    await expect.poll(() => c.received).toEqual([{ type: 'failure', message: 'hi' }]);
  });

  it('closes the link with 1002 and the reason on a malformed frame, and with 1003 on text', async () => {
    for (const [frame, code, reason] of [
      [encodeMessage({ type: 'nonsense' } as never), CLOSE.protocolError, /nonsense|type/],
      ['hello', 1003, /text frames/],
    ] as const) {
      const c = await fakeCoordinator();
      cleanup.push(c.close);
      const { link, messages } = await linkTo(c.url);
      (await c.connection()).send(frame);
      const closed = await link.closed;
      expect(closed.code).toBe(code);
      expect(closed.reason).toMatch(reason);
      expect(messages).toEqual([]);
    }
  });

  it('treats a coordinator that stops pinging as gone', { timeout: 10_000 }, async () => {
    const c = await fakeCoordinator();
    cleanup.push(c.close);
    const { link, logs } = await linkTo(c.url, { heartbeatTimeoutMs: 1_000 });
    const closed = await link.closed;
    expect(closed.code).toBe(1006);
    expect(logs).toContain('no heartbeat from the coordinator for 1 s: treating it as gone');
    link.send({ type: 'failure', message: 'dropped, not thrown' });
  });

  it('gives up with E_CONNECT when nothing listens', async () => {
    const c = await fakeCoordinator();
    await c.close();
    const err = await linkTo(c.url, { connectTimeoutMs: 300 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GradsyncError);
    expect((err as GradsyncError).code).toBe('E_CONNECT');
    expect((err as GradsyncError).message).toMatch(/cannot reach the coordinator/);
  });
});
