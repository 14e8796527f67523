/**
 * A deterministic (seeded) generator of hostile traffic for gradsync's two listening sockets: the
 * coordinator's /worker endpoint and a worker's ring port, plus the client that throws it.
 *
 * Every connection follows one scenario: random bytes, truncated or bit-flipped valid messages,
 * valid MessagePack of the wrong shape (including values that trip validators), a wrong protocol
 * version, length prefixes that claim gigabytes, nesting bombs, text frames, a hello followed by
 * messages out of order, float-frame headers where a handshake belongs, oversize frames.
 */
import net from 'node:net';
import WebSocket from 'ws';
import { encode } from '@gradsync/protocol';
import { mulberry32 } from '@gradsync/core';

export class Rng {
  private readonly f: () => number;
  constructor(seed: number) {
    this.f = mulberry32(seed);
  }
  next(): number {
    return this.f();
  }
  int(n: number): number {
    return Math.floor(this.f() * n);
  }
  chance(p: number): boolean {
    return this.f() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  string(max: number): string {
    const alphabets = ['abcdefghijklmnopqrstuvwxyz0123456789', '\u0000\n\r\t\u001b"\'\\{}[]', 'éß€中文😀\u202e\ud800\uffff'];
    const n = this.int(max + 1);
    let s = '';
    for (let i = 0; i < n; i++) s += this.pick([...this.pick(alphabets)]);
    return s;
  }
}

const WORKER_TYPES = ['hello', 'ready', 'step-done', 'star-part', 'eval-done', 'state', 'failure', 'endpoint', 'step-aborted', 'welcome', 'step', 'done'];

/** Any plain value MessagePack can carry (what `encode` accepts). */
function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 6 : 10)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1, 255, 65536, 2 ** 31, 2 ** 32, -(2 ** 31) - 1, 2 ** 53, Number.MAX_SAFE_INTEGER, rng.int(1e9)]);
    case 3:
      return rng.pick([0.5, -0, NaN, Infinity, -Infinity, 1e308, 5e-324, rng.next()]);
    case 4:
      return rng.string(40);
    case 5:
      return rng.bytes(rng.int(64));
    case 6:
      return Array.from({ length: rng.int(6) }, () => randomValue(rng, depth + 1));
    case 7: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(6); i > 0; i--) {
        // defineProperty: a key named __proto__ must be an own field, not a new prototype.
        const key = rng.pick(['type', 'v', 'token', 'step', 'data', '__proto__', 'constructor', 'toString', rng.string(8)]);
        Object.defineProperty(o, key, { value: randomValue(rng, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
    default: {
      // An object that looks like one of ours, with fields of the wrong kinds.
      const o: Record<string, unknown> = { type: rng.pick(WORKER_TYPES), v: rng.pick([1, 1, 0, 2, '1', null]) };
      for (const k of ['step', 'loss', 'correct', 'count', 'computeMs', 'op', 'data', 'phase', 'reqId', 'message', 'host', 'pid', 'peerUrl']) {
        if (rng.chance(0.4)) o[k] = randomValue(rng, depth + 1);
      }
      return o;
    }
  }
}

/** Values chosen to trip validators and loggers: odd `type`s, prototype keys, multi-byte text. */
function nastyValue(rng: Rng): unknown {
  return rng.pick<() => unknown>([
    () => ({ type: { toString: 1 } }),
    () => ({ type: { valueOf: 1, toString: 1 } }),
    () => ({ type: [[]] }),
    () => ({ type: '€'.repeat(50 + rng.int(500)) }),
    () => ({ type: `x\nworker joined: rank 0 on forged\n${'\u0000'.repeat(3)}` }),
    () => ({ type: 'x'.repeat(100_000) }),
    () => JSON.parse('{"__proto__": {"polluted": 1}, "type": "ready", "phase": "data"}'),
    () => ({ type: 'step-done', step: -1, loss: NaN, correct: 2 ** 40, count: -5, computeMs: -1, allreduceMs: Infinity, waitMs: 0 }),
    () => ({
      type: 'step-done',
      step: 1,
      op: 1,
      loss: 1,
      correct: 1,
      count: 1,
      computeMs: 1,
      allreduceMs: 1,
      waitMs: 0,
      applied: true,
      cpuPercent: rng.pick([-1, Infinity, '50', 1e9]),
      rssBytes: rng.pick([-1, 0.5, 2 ** 60]),
      gpuBytes: rng.pick([NaN, {}, -3]),
    }),
    () => ({ type: 'hello', v: 1, host: 'h'.repeat(10_000), pid: 1, backend: 'x', device: 'y', peerUrl: null }),
    () => ({ type: 'hello', v: 1, token: 't'.repeat(5000), host: 'h', pid: 1, backend: 'x', device: 'y', peerUrl: null }),
    () => ({ type: 'hello', v: 1, host: 'h', pid: 1, backend: 'x', device: 'y', peerUrl: 'ws://127.0.0.1:1', extra: true }),
    () => [],
    () => 'hello',
    () => 42,
  ])();
}

/** Hand-made MessagePack (and not-MessagePack) prefixes that claim far more than they hold. */
function hugeClaim(rng: Rng): Uint8Array {
  const ff = [0xff, 0xff, 0xff, 0xff];
  const big = [0x7f, 0xff, 0xff, 0xff];
  const head = rng.pick([
    [0xc6, ...ff], // bin32 of 4 GiB
    [0xc6, ...big],
    [0xdb, ...ff], // str32
    [0xdd, ...ff], // array32
    [0xdd, ...big],
    [0xdf, ...ff], // map32
    [0xdf, ...big],
    [0xc9, ...ff, 0x01], // ext32
    [0xc9, ...ff, 0xff], // ext32, timestamp type
    [0xd7, 0xff], // fixext8 timestamp
    [0xc7, 0xff, 0x00], // ext8 of an unknown type
    [0x81, 0xdb, ...ff], // {str32: ...}
    [0xc1, 0x01, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...ff], // a float-frame header announcing 2^32-1 floats
    [0xcf, ...ff, ...ff], // u64 max
    [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], // i64 min
  ]);
  return new Uint8Array([...head, ...rng.bytes(rng.int(16))]);
}

/** Deep nesting: fixarray-of-one repeated (a stack bomb for a recursive decoder). */
function nestingBomb(rng: Rng): Uint8Array {
  const depth = rng.pick([40, 1000, 100_000, 500_000]);
  const b = new Uint8Array(depth + 1).fill(rng.chance(0.5) ? 0x91 : 0x81);
  b[depth] = 0xc0;
  if (b[0] === 0x81) for (let i = 0; i < depth; i += 2) b[i + 1] = 0xa0; // {"" : {"" : ...}}
  return b;
}

function mutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  const b = [...bytes];
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = rng.int(b.length + 1);
    switch (rng.int(4)) {
      case 0:
        if (b.length) b[at % b.length] ^= 1 << rng.int(8);
        break;
      case 1:
        if (b.length) b[at % b.length] = rng.int(256);
        break;
      case 2:
        b.splice(at, 0, rng.int(256));
        break;
      default:
        b.splice(at, 1);
    }
  }
  return new Uint8Array(b);
}

function truncate(rng: Rng, bytes: Uint8Array): Uint8Array {
  return bytes.subarray(0, rng.int(Math.max(1, bytes.length - 1)));
}

export type FuzzFrame = Uint8Array | string;

export interface Scenario {
  name: string;
  frames: FuzzFrame[];
}

const workerHello = (rng: Rng, token?: string) => ({
  type: 'hello',
  v: 1,
  token,
  host: rng.pick(['fuzzer', 'localhost', '']),
  pid: rng.int(100_000),
  backend: 'cpu',
  device: 'CPU',
  peerUrl: rng.pick([null, 'ws://127.0.0.1:1', 'ws://evil.example:80']),
});

/** Plausible worker messages in the wrong place (no group, wrong steps). */
function outOfOrder(rng: Rng): unknown {
  return rng.pick<() => unknown>([
    () => ({ type: 'ready', phase: rng.pick(['data', 'group']) }),
    () => ({ type: 'step-done', step: rng.int(100), loss: 2.3, correct: 3, count: 32, computeMs: 1, allreduceMs: 1, waitMs: 0, hash: 'deadbeef' }),
    () => ({
      type: 'step-done',
      step: rng.int(100),
      op: rng.int(100),
      loss: 2.3,
      correct: 3,
      count: 32,
      computeMs: 1,
      allreduceMs: 1,
      waitMs: 0,
      applied: true,
      cpuPercent: 99.5,
      rssBytes: 2 ** 33,
      gpuBytes: 0,
    }),
    () => ({ type: 'star-part', op: rng.int(100), data: rng.bytes(4 * rng.int(16)) }),
    () => ({ type: 'eval-done', evalId: rng.int(10), lossSum: 1, correct: 1, count: 1, confusion: new Array(100).fill(0) }),
    () => ({ type: 'state', reqId: rng.int(10), params: rng.bytes(8), state: rng.bytes(0), adamM: rng.bytes(8), adamV: rng.bytes(8), adamT: 1 }),
    () => ({ type: 'failure', message: 'fuzzer says the run failed' }),
    () => ({ type: 'endpoint', groupId: 1, peerUrl: null }),
    () => workerHello(rng),
  ])();
}

/** One connection's frames to the coordinator's /worker endpoint. `token` is a wrong guess or none. */
export function coordinatorScenario(rng: Rng): Scenario {
  const wrongToken = rng.pick([undefined, '', 'guess', 's3cret', 'x'.repeat(999)]);
  const n = 1 + rng.int(5);
  const kinds = [
    'garbage',
    'truncated',
    'mutated',
    'wrong-shape',
    'nasty',
    'version',
    'huge-claim',
    'nesting',
    'text',
    'hello-then-out-of-order',
    'out-of-order',
    'silent',
  ] as const;
  const weights = [14, 10, 14, 12, 8, 6, 8, 2, 6, 12, 7, 1];
  let r = rng.int(weights.reduce((a, b) => a + b, 0));
  let kind: (typeof kinds)[number] = kinds[0];
  for (let i = 0; i < kinds.length; i++) {
    if (r < weights[i]) {
      kind = kinds[i];
      break;
    }
    r -= weights[i];
  }
  const frames: FuzzFrame[] = [];
  const valid = () => encode(rng.chance(0.5) ? workerHello(rng, wrongToken) : outOfOrder(rng));
  for (let i = 0; i < n; i++) {
    switch (kind) {
      case 'garbage':
        frames.push(rng.bytes(rng.pick([0, 1, 2, 7, 24, 100, 1000, rng.int(4096)])));
        break;
      case 'truncated':
        frames.push(truncate(rng, valid()));
        break;
      case 'mutated':
        frames.push(mutate(rng, valid()));
        break;
      case 'wrong-shape':
        frames.push(encode(randomValue(rng)));
        break;
      case 'nasty':
        frames.push(encode(nastyValue(rng)));
        break;
      case 'version':
        frames.push(encode({ ...workerHello(rng, wrongToken), v: rng.pick([0, 2, 255, -1, 1.5, '1', null, true]) }));
        break;
      case 'huge-claim':
        frames.push(hugeClaim(rng));
        break;
      case 'nesting':
        frames.push(nestingBomb(rng));
        break;
      case 'text':
        frames.push(rng.pick([rng.string(200), JSON.stringify(workerHello(rng)), '']));
        break;
      case 'hello-then-out-of-order':
        frames.push(encode(i === 0 ? workerHello(rng, wrongToken) : outOfOrder(rng)));
        break;
      case 'out-of-order':
        frames.push(encode(outOfOrder(rng)));
        break;
      case 'silent':
        break;
    }
  }
  return { name: kind, frames };
}

/** One connection's frames to a worker's ring port. */
export function ringScenario(rng: Rng): Scenario {
  const hello = () => ({
    type: 'peer-hello',
    v: 1,
    runId: rng.pick(['fuzz-00000000', 'x', 'r'.repeat(300), '']),
    rank: rng.pick([0, 1, 2, -1, 4095, 4096, 1.5]),
    token: rng.pick([undefined, 'guess', 's3cret', 'fuzz-s3cret']),
    segmentBytes: rng.pick([1 << 20, 4, 3, 0, 2 ** 31]),
  });
  const floatHeader = () => {
    const b = new Uint8Array(24);
    const v = new DataView(b.buffer);
    b[0] = 0xc1;
    b[1] = rng.pick([1, 1, 0, 2]);
    b[2] = rng.pick([1, 2, 3, 0, 9]);
    b[3] = rng.pick([0, 1, 2]);
    for (let o = 4; o < 24; o += 4) v.setUint32(o, rng.pick([0, 1, 7, 0xffffffff, rng.int(2 ** 32)]), true);
    return rng.chance(0.8) ? b : b.subarray(0, rng.int(24));
  };
  const kind = rng.pick(['garbage', 'hello', 'mutated-hello', 'truncated-hello', 'float-frames', 'wrong-shape', 'huge-claim', 'text', 'nesting'] as const);
  const frames: FuzzFrame[] = [];
  const n = 1 + rng.int(5);
  for (let i = 0; i < n; i++) {
    switch (kind) {
      case 'garbage':
        frames.push(rng.bytes(rng.int(2048)));
        break;
      case 'hello':
        // A well-formed hello (wrong run id, rank or token), then segments it has no right to send.
        frames.push(i === 0 ? encode(hello()) : floatHeader());
        break;
      case 'mutated-hello':
        frames.push(mutate(rng, encode(hello())));
        break;
      case 'truncated-hello':
        frames.push(truncate(rng, encode(hello())));
        break;
      case 'float-frames':
        frames.push(floatHeader(), rng.bytes(4 * rng.int(64)));
        break;
      case 'wrong-shape':
        frames.push(encode(rng.chance(0.3) ? nastyValue(rng) : randomValue(rng)));
        break;
      case 'huge-claim':
        frames.push(hugeClaim(rng));
        break;
      case 'text':
        frames.push(rng.string(100));
        break;
      case 'nesting':
        frames.push(nestingBomb(rng).subarray(0, 60_000));
        break;
    }
  }
  return { name: kind, frames };
}

export interface ConnectionOutcome {
  /** Whether the WebSocket opened. */
  opened: boolean;
  /** Frames handed to the socket while it was open. */
  sent: number;
  /** Close code the server sent (1006: none, the connection just ended). */
  code: number | null;
  reason: string;
}

/**
 * Opens one WebSocket, sends the scenario's frames back to back, and waits for the server to
 * close it (at most `waitMs`, then it is cut off).
 */
export function throwScenario(url: string, scenario: Scenario, waitMs = 3_000): Promise<ConnectionOutcome> {
  return new Promise((resolve) => {
    const out: ConnectionOutcome = { opened: false, sent: 0, code: null, reason: '' };
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 10_000, maxPayload: 1 << 20 });
    let timer: NodeJS.Timeout | undefined;
    ws.on('error', () => {});
    ws.on('open', () => {
      out.opened = true;
      for (const f of scenario.frames) {
        if (ws.readyState !== WebSocket.OPEN) break;
        ws.send(f, { binary: typeof f !== 'string' });
        out.sent++;
      }
      timer = setTimeout(() => ws.terminate(), waitMs);
    });
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      out.code = code;
      out.reason = reason.toString();
      resolve(out);
    });
  });
}

/** Raw bytes on a TCP connection to `port` (not a WebSocket): bad HTTP, bad upgrades, noise. */
export function throwRawTcp(port: number, rng: Rng): Promise<void> {
  const payloads = [
    () => rng.bytes(1 + rng.int(2000)),
    () =>
      Buffer.from(
        'GET /worker HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: nope\r\n\r\n',
      ),
    () => Buffer.from('GET /worker HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n'),
    () => Buffer.from(`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
    () => Buffer.from('POST /worker HTTP/1.1\r\nContent-Length: 999999999\r\n\r\nabc'),
    () =>
      Buffer.from(
        'GET /worker HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\x82\xff' +
          '\xff'.repeat(8),
        'latin1',
      ),
  ];
  const data = rng.pick(payloads)();
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, 1_500);
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => s.write(data));
  });
}
