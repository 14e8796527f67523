/**
 * One process of the all-reduce benchmark (bench-allreduce.ts forks it with tsx). It plays one
 * role, driven by its parent over the IPC channel:
 *
 *   ring      a RingAllReducer rank
 *   star      a StarClient rank over a coordinator link, as in training (bench-star.ts)
 *   star-hub  the coordinator's side, as in training: a WorkerHub feeding a StarRelay
 *   raw       a plain WebSocket stream with the same framing (24-byte header message, then the
 *             raw float bytes; receiver copies each payload into place), to measure what the link
 *             itself can carry; optionally dials the next raw process, and listens for the previous
 *   raw-tcp   a bare TCP stream, received straight into place (raw-tcp-stream.ts): the loopback's ceiling
 *
 * Parent → child: init, group, prepare, go (one timed operation), reset (drop the role, so the
 * process can take another), exit.
 * Child → parent: listening, connected, prepared, done (start/end on a clock shared by all
 * processes of the machine, and after the first operation, whether the result was exact),
 * reset-done, error.
 *
 * Ring and star ranks pass a 4-byte all-reduce through the same reducer right before each timed
 * operation: a barrier that releases all ranks within one message latency, so the timed operation
 * starts together everywhere.
 */
import { createHash } from 'node:crypto';
import { ephemeralIdentity } from '@gradsync/cluster';
import WebSocket, { WebSocketServer } from 'ws';
import { ProtocolError } from '@gradsync/protocol';
import { type AllReducer, encodeFrameHeader, FrameReader, RingAllReducer, type WireDtype, zeroMask } from '@gradsync/collective';
import { RawTcpStream } from './raw-tcp-stream';
import { joinStarCoordinator, listenStarCoordinator, type StarCoordinator, type StarRank } from './bench-star';

export type BenchRole = 'ring' | 'star' | 'star-hub' | 'raw' | 'raw-tcp';

export type ParentMessage =
  | {
      type: 'init';
      role: BenchRole;
      rank: number;
      world: number;
      segmentBytes: number;
      maskFrames: boolean;
      timeoutMs: number;
      /** ring over TLS with a certificate made here */ tls?: boolean;
      /** what the ring's floats travel as (default f32) */ wireDtype?: WireDtype;
      /** halving-doubling where the group allows it, at any size (else never: the ring alone) */ halvingDoubling?: boolean;
      /** the address to listen on (default 127.0.0.1; a namespace's own in the netns bench) */ host?: string;
    }
  | { type: 'group'; peers: string[]; hubUrl?: string; next?: string | null }
  | { type: 'prepare'; bytes: number; sendBytes?: number; expectBytes?: number }
  | { type: 'go'; rep: number; opId: number }
  | { type: 'reset' }
  | { type: 'cpu' }
  | { type: 'exit' };

export type ChildMessage =
  | { type: 'listening'; url: string | null }
  | { type: 'connected' }
  | { type: 'prepared' }
  | { type: 'done'; rep: number; start: number; end: number; cpuMs: number; minorFaults: number; exact?: boolean; digest?: string }
  | { type: 'reset-done' }
  /** CPU time (user + system) this process has used so far. */
  | { type: 'cpu'; ms: number }
  | { type: 'error'; message: string };

/**
 * Milliseconds on a clock all processes of this machine share: times are compared across
 * processes (a link: its sender's start, its receiver's end). The monotonic clock is one clock for
 * every process; timeOrigin + now() is not: each process fixes its origin at start, milliseconds
 * apart under load (a raw-tcp median once came out at -3.4 ms).
 */
const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** CPU milliseconds (user + system, all threads) this process has used. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Minor page faults of this process so far: writes into pages the kernel had to supply. */
const minorFaults = (): number => process.resourceUsage().minorPageFault;

/**
 * Exactly representable inputs: any summation order gives the exact, same sum. On a 16-bit wire
 * every partial sum must also fit 8 significant bits (bf16): eighths of at most 8 ranks × 1.
 */
function inputValue(i: number, rank: number, wire: WireDtype): number {
  return wire === 'f32' ? (((i * 7 + rank * 13) % 101) - 50) / 64 : (((i * 7 + rank * 13) % 17) - 8) / 8;
}

function fillInput(x: Float32Array, rank: number, wire: WireDtype): void {
  for (let i = 0; i < x.length; i++) x[i] = inputValue(i, rank, wire);
}

function isExactSum(x: Float32Array, world: number, wire: WireDtype): boolean {
  for (let i = 0; i < x.length; i++) {
    let s = 0;
    for (let r = 0; r < world; r++) s += inputValue(i, r, wire);
    if (x[i] !== s) return false;
  }
  return true;
}

/** Diagnostics from the links go to stderr, which the parent passes through. */
function logLine(line: string): void {
  process.stderr.write(`[bench ${process.pid}] ${line}\n`);
}

function send(message: ChildMessage): void {
  process.send!(message);
}

/** The raw stream: send `sendBytes` to the next process while receiving `expectBytes`. */
class RawStream {
  private server: WebSocketServer | null = null;
  private next: WebSocket | null = null;
  private src = new Uint8Array(0);
  private dst = new Uint8Array(0);
  private received = 0;
  /** Complete rounds received; the sender may start the next round before this side's 'go'. */
  private roundsReceived = 0;
  private roundsWanted = 0;
  private reader = new FrameReader('raw stream');
  private onProgress: (() => void) | null = null;

  constructor(
    private readonly segmentBytes: number,
    private readonly maskFrames: boolean,
  ) {}

  listen(host: string): Promise<string> {
    return new Promise((resolve) => {
      const server = new WebSocketServer({ host, port: 0, perMessageDeflate: false, maxPayload: Math.max(this.segmentBytes, 65536) });
      this.server = server;
      server.on('connection', (ws) => {
        ws.binaryType = 'nodebuffer';
        ws.on('message', (data: Buffer) => {
          const out = this.reader.push(data);
          if (out === null) return;
          if (out instanceof ProtocolError) throw out;
          this.dst.set(out.payload, this.received);
          this.received += out.payload.byteLength;
          if (this.received === this.dst.byteLength) {
            this.received = 0;
            this.roundsReceived++;
          }
          this.onProgress?.();
        });
      });
      server.once('listening', () => resolve(`ws://${host}:${(server.address() as { port: number }).port}`));
    });
  }

  async dial(url: string | null | undefined): Promise<void> {
    if (!url) return;
    const ws = new WebSocket(url, { perMessageDeflate: false, generateMask: this.maskFrames ? undefined : zeroMask });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    this.next = ws;
  }

  prepare(sendBytes: number, expectBytes: number): void {
    this.src = new Uint8Array(sendBytes).fill(1);
    this.dst = new Uint8Array(expectBytes);
    this.received = 0;
    this.roundsReceived = 0;
    this.roundsWanted = 0;
  }

  run(opId: number): Promise<void> {
    if (this.dst.byteLength > 0) this.roundsWanted++;
    return new Promise((resolve) => {
      let unflushed = 0;
      const check = () => {
        if (unflushed === 0 && this.roundsReceived >= this.roundsWanted) {
          this.onProgress = null;
          resolve();
        }
      };
      this.onProgress = check;
      const ws = this.next;
      if (ws) {
        let segment = 0;
        for (let off = 0; off < this.src.byteLength; off += this.segmentBytes, segment++) {
          const len = Math.min(this.segmentBytes, this.src.byteLength - off);
          ws.send(encodeFrameHeader({ kind: 'ring-segment', opId, phase: 'reduce-scatter', step: 0, chunk: 0, segment, floatCount: len / 4 }));
          unflushed++;
          ws.send(this.src.subarray(off, off + len), () => {
            unflushed--;
            check();
          });
        }
      }
      check();
    });
  }

  close(): void {
    this.next?.terminate();
    this.server?.close();
  }
}

async function main(): Promise<void> {
  let init: Extract<ParentMessage, { type: 'init' }> | null = null;
  let reducer: AllReducer | null = null;
  let ring: RingAllReducer | null = null;
  let hub: StarCoordinator | null = null;
  let star: StarRank | null = null;
  let raw: RawStream | null = null;
  let tcp: RawTcpStream | null = null;
  let input = new Float32Array(0);
  let data = new Float32Array(0);
  const barrier = new Float32Array(1);
  const release = async () => {
    await Promise.race([Promise.all([star?.close() ?? reducer?.close(), hub?.close()]), new Promise((r) => setTimeout(r, 2000))]);
    raw?.close();
    tcp?.close();
    reducer = ring = hub = star = raw = tcp = null;
    input = data = new Float32Array(0);
  };

  const handle = async (msg: ParentMessage): Promise<void> => {
    switch (msg.type) {
      case 'init': {
        init = msg;
        if (msg.role === 'ring') {
          const tls = msg.tls ? await ephemeralIdentity(`bench rank ${msg.rank}`) : undefined;
          const halvingDoublingMaxBytes = msg.halvingDoubling ? Number.MAX_SAFE_INTEGER : 0;
          ring = await RingAllReducer.listen({
            host: msg.host,
            segmentBytes: msg.segmentBytes,
            timeoutMs: msg.timeoutMs,
            maskFrames: msg.maskFrames,
            tls,
            halvingDoublingMaxBytes,
          });
          reducer = ring;
          send({ type: 'listening', url: ring.url });
        } else if (msg.role === 'star-hub') {
          hub = await listenStarCoordinator(msg.world, logLine);
          send({ type: 'listening', url: hub.url });
        } else if (msg.role === 'raw') {
          raw = new RawStream(msg.segmentBytes, msg.maskFrames);
          send({ type: 'listening', url: await raw.listen(msg.host ?? '127.0.0.1') });
        } else if (msg.role === 'raw-tcp') {
          tcp = new RawTcpStream();
          send({ type: 'listening', url: await tcp.listen(msg.host) });
        } else {
          send({ type: 'listening', url: null });
        }
        return;
      }
      case 'group': {
        const i = init!;
        if (i.role === 'ring') {
          await ring!.connect({ rank: i.rank, world: i.world, peers: msg.peers, runId: 'bench', wireDtype: i.wireDtype });
        } else if (i.role === 'star') {
          star = await joinStarCoordinator(msg.hubUrl ?? '', { timeoutMs: i.timeoutMs, log: logLine });
          reducer = star.reducer;
        } else if (i.role === 'star-hub') {
          await hub?.formed;
        } else if (i.role === 'raw') {
          await raw!.dial(msg.next);
        } else if (i.role === 'raw-tcp') {
          await tcp!.connect(msg.next);
        }
        send({ type: 'connected' });
        return;
      }
      case 'prepare': {
        const i = init!;
        if (i.role === 'raw' || i.role === 'raw-tcp') {
          (raw ?? tcp)!.prepare(msg.sendBytes ?? 0, msg.expectBytes ?? 0);
        } else if (i.role !== 'star-hub') {
          input = new Float32Array(msg.bytes / 4);
          fillInput(input, i.rank, i.wireDtype ?? 'f32');
          data = new Float32Array(input.length);
        }
        send({ type: 'prepared' });
        return;
      }
      case 'go': {
        const i = init!;
        if (i.role === 'raw' || i.role === 'raw-tcp') {
          const cpu0 = cpuMs();
          const faults0 = minorFaults();
          const start = now();
          await (raw ? raw.run(msg.opId) : tcp!.run());
          send({ type: 'done', rep: msg.rep, start, end: now(), cpuMs: cpuMs() - cpu0, minorFaults: minorFaults() - faults0 });
          return;
        }
        data.set(input);
        await reducer!.allReduceSum(barrier, msg.opId);
        const cpu0 = cpuMs();
        const faults0 = minorFaults();
        const start = now();
        await reducer!.allReduceSum(data, msg.opId + 1);
        const end = now();
        const cpu = cpuMs() - cpu0;
        const faults = minorFaults() - faults0;
        if (msg.rep === 0) {
          const digest = createHash('sha1')
            .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
            .digest('hex');
          send({ type: 'done', rep: msg.rep, start, end, cpuMs: cpu, minorFaults: faults, exact: isExactSum(data, i.world, i.wireDtype ?? 'f32'), digest });
        } else {
          send({ type: 'done', rep: msg.rep, start, end, cpuMs: cpu, minorFaults: faults });
        }
        return;
      }
      case 'cpu': {
        send({ type: 'cpu', ms: cpuMs() });
        return;
      }
      case 'reset': {
        await release();
        send({ type: 'reset-done' });
        return;
      }
      case 'exit': {
        await release();
        process.exit(0);
      }
    }
  };

  // Messages are handled strictly in order.
  let chain = Promise.resolve();
  process.on('message', (msg: ParentMessage) => {
    chain = chain
      .then(() => handle(msg))
      .catch((err: Error) => {
        send({ type: 'error', message: err.message });
        setTimeout(() => process.exit(1), 100);
      });
  });
  process.on('disconnect', () => process.exit(0));
}

void main();
