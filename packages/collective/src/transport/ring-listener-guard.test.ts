import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseAllowList } from '@gradsync/cluster';
import { RingAllReducer } from './ring-all-reducer';

// --allow on a real ring listener: loopback exempted from the rule so that 127.0.0.3 can play a
// host elsewhere and 127.0.0.2 an allowed one.
const reducers: RingAllReducer[] = [];
afterEach(async () => {
  await Promise.all(reducers.splice(0).map((r) => r.close()));
});

function open(url: string, localAddress: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
  });
}

describe('ring listener allow-list', () => {
  it('an address outside --allow is cut off before the WebSocket handshake and reported; an allowed one connects', async () => {
    const refused: string[] = [];
    const allow = parseAllowList(['127.0.0.2'], '--allow', { loopbackAlways: false });
    const reducer = await RingAllReducer.listen({ allow, onRefused: (a) => refused.push(a) });
    reducers.push(reducer);
    expect(await open(reducer.url, '127.0.0.3')).toMatch(/^error (ECONNRESET|socket hang up)/);
    expect(refused).toEqual(['127.0.0.3']);
    expect(await open(reducer.url, '127.0.0.2')).toBe('open');
    expect(refused).toHaveLength(1);
  });

  it('listens on the port it is given', async () => {
    const first = await RingAllReducer.listen();
    reducers.push(first);
    await first.close();
    const port = Number(new URL(first.url).port);
    const again = await RingAllReducer.listen({ port });
    reducers.push(again);
    expect(again.url).toBe(`ws://127.0.0.1:${port}`);
    await expect(RingAllReducer.listen({ port })).rejects.toMatchObject({ code: 'E_PEER_LISTEN', cause: { code: 'EADDRINUSE' } });
  });
});
