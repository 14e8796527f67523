/**
 * Ring all-reduce over WebSocket links (the transport; the schedule is core's RingOperation).
 *
 * Each rank listens (port 0 by default: the OS picks), is told every rank's URL, dials rank+1 and
 * admits rank−1. Data flows one way around the ring: segments go out on the dialed link and come
 * in on the admitted one. Segments are pipelined: a received segment is added (or copied) and sent
 * on at once, while later segments are still arriving, so sending, receiving and adding overlap
 * across the whole operation. Sends are views of the caller's Float32Array (no copy); the operation
 * resolves only after every send has been handed to the kernel, so the caller may then reuse the
 * array.
 *
 * Frames for the next operation can arrive before this rank's caller starts it (rank−1 finished
 * first); they are kept, in order, and replayed when it starts.
 */
import http from 'node:http';
import https from 'node:https';
import WebSocket, { WebSocketServer } from 'ws';
import { GradsyncError } from '@gradsync/core';
import { type AllowList, refuseOutsiders, type TlsIdentity } from '@gradsync/core/cluster';
import { MAX_WORLD, RingOperation, ringNext, ringPrev, segmentElementsForBytes, type SegmentTransfer } from '@gradsync/core/allreduce';
import {
  CLOSE,
  encodeFrameHeader,
  floatsFromBytes,
  FrameReader,
  MAX_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
  peerHello,
  peerWelcome,
  ProtocolError,
  validateRingSegment,
  encode,
  type Frame,
  type PeerHello,
} from '@gradsync/core/protocol';
import { MAX_OP_ID, type AllReducer } from './all-reducer';
import { dialPeer, readHello, refusalReason } from './peer-handshake';
import { certificateRefusal, clientFingerprint, peerUrlWithFingerprint, splitPeerUrl } from './ring-tls';
import { closeLink } from './peer-socket';

export interface RingAllReducerOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (default 0: the OS picks one). */
  port?: number;
  /** Host name to put in `url` when `host` is a wildcard such as 0.0.0.0 (default: host). */
  advertiseHost?: string;
  /** Bytes per pipelined segment; every rank must use the same (default 1 MiB, see bench-allreduce.ts). */
  segmentBytes?: number;
  /** An allReduceSum that has not finished after this long rejects (default 60 s). */
  timeoutMs?: number;
  /** connect() gives up after this long (default 30 s). */
  connectTimeoutMs?: number;
  /** Most bytes of early frames (for an operation not started here yet) kept (default 1 GiB). */
  maxEarlyBytes?: number;
  /**
   * Mask outgoing frames with random keys (default false). Costs an XOR pass and a copy of every
   * segment; it exists to measure that cost and for paths through intermediaries that insist.
   */
  maskFrames?: boolean;
  /** Accept links only from these addresses; others are cut off at TCP accept, before any handshake. */
  allow?: AllowList | null;
  /** Told the address of each connection `allow` refused. */
  onRefused?: (address: string) => void;
  /** Listen with TLS (wss://, its fingerprint in `url`) and show this certificate when dialling (see ring-tls.ts). */
  tls?: TlsIdentity;
}

/** The group as the coordinator announces it. */
export interface RingGroup {
  rank: number;
  world: number;
  /** WebSocket URL of every rank, indexed by rank. */
  peers: readonly string[];
  runId: string;
  token?: string;
}

export const DEFAULT_SEGMENT_BYTES = 1024 * 1024;

type Settings = Required<Omit<RingAllReducerOptions, 'host' | 'port' | 'advertiseHost' | 'allow' | 'onRefused' | 'tls'>> & { tls?: TlsIdentity };

interface RunningOp {
  readonly id: number;
  readonly data: Float32Array;
  readonly ring: RingOperation;
  pendingSends: number;
  readonly resolve: (data: Float32Array) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface Arrival {
  ws: WebSocket;
  hello: PeerHello;
  /** SHA-256 of the dialer's TLS certificate, when it showed one. */
  certificate?: string;
}

export class RingAllReducer implements AllReducer {
  readonly algorithm = 'ring' as const;
  /** Where rank−1 should dial this rank. */
  readonly url: string;
  readonly segmentBytes: number;

  private readonly server: WebSocketServer;
  private readonly httpServer: http.Server;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxEarlyBytes: number;
  private readonly maskFrames: boolean;
  private readonly tls: TlsIdentity | undefined;
  private group: RingGroup | null = null;
  private next: WebSocket | null = null;
  private prev: WebSocket | null = null;
  private connected = false;
  private readonly parked: Arrival[] = [];
  private readonly sockets = new Set<WebSocket>();
  private prevAdmitted: ((ws: WebSocket) => void) | null = null;
  private lastRefusal: string | null = null;
  private reader: FrameReader | null = null;
  private op: RunningOp | null = null;
  private early: Frame[] = [];
  private earlyBytes = 0;
  private failure: GradsyncError | null = null;
  private closed = false;

  private constructor(httpServer: http.Server, server: WebSocketServer, url: string, options: Settings) {
    this.httpServer = httpServer;
    this.server = server;
    this.url = url;
    this.segmentBytes = options.segmentBytes;
    this.timeoutMs = options.timeoutMs;
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.maxEarlyBytes = options.maxEarlyBytes;
    this.maskFrames = options.maskFrames;
    this.tls = options.tls;
    server.on('connection', (ws, req) => this.onInbound(ws, clientFingerprint(req)));
  }

  /** Starts listening; `url` is then the address to announce to the group. */
  static listen(options: RingAllReducerOptions = {}): Promise<RingAllReducer> {
    const host = options.host ?? '127.0.0.1';
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!Number.isInteger(segmentBytes) || segmentBytes % 4 !== 0 || segmentBytes < MIN_SEGMENT_BYTES || segmentBytes > MAX_SEGMENT_BYTES) {
      return Promise.reject(
        new GradsyncError('E_ALLREDUCE_ARG', `segmentBytes must be a multiple of 4 in ${MIN_SEGMENT_BYTES}..${MAX_SEGMENT_BYTES}, got ${segmentBytes}`),
      );
    }
    const settings = {
      segmentBytes,
      timeoutMs: options.timeoutMs ?? 60_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      maxEarlyBytes: options.maxEarlyBytes ?? 2 ** 30,
      maskFrames: options.maskFrames ?? false,
      tls: options.tls,
    };
    return new Promise((resolve, reject) => {
      // Our own HTTP server (not ws's) so that refused addresses are dropped before it reads a byte.
      const upgradeRequired = (_req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(426).end();
      // With TLS the dialer's certificate is asked for and checked against the group (not against a CA) in admit().
      const httpServer: http.Server = options.tls
        ? https.createServer({ cert: options.tls.cert, key: options.tls.key, requestCert: true, rejectUnauthorized: false }, upgradeRequired)
        : http.createServer(upgradeRequired);
      const { allow, onRefused } = options;
      if (allow) refuseOutsiders(httpServer, allow, (address) => onRefused?.(address));
      const server = new WebSocketServer({
        server: httpServer,
        perMessageDeflate: false,
        // A payload message is one segment; handshake messages are far smaller than 64 KiB.
        maxPayload: Math.max(segmentBytes, 65536),
      });
      server.on('error', () => {}); // ws re-emits the HTTP server's errors, handled below
      httpServer.once('error', (err) =>
        reject(new GradsyncError('E_PEER_LISTEN', `cannot listen for ring peers on ${host}:${options.port ?? 0}: ${err.message}`, { cause: err })),
      );
      httpServer.listen(options.port ?? 0, host, () => {
        httpServer.on('error', () => {});
        const address = httpServer.address();
        const port = typeof address === 'object' && address ? address.port : options.port;
        const shown = options.advertiseHost ?? host;
        const plain = `${options.tls ? 'wss' : 'ws'}://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
        const url = options.tls ? peerUrlWithFingerprint(plain, options.tls.fingerprint) : plain;
        resolve(new RingAllReducer(httpServer, server, url, settings));
      });
    });
  }

  /**
   * Links this rank into the ring: dials rank+1, admits rank−1 (run id, rank, token and segment
   * size checked). Resolves when both links are up. A world of one needs no links.
   */
  async connect(group: RingGroup): Promise<void> {
    if (this.closed) throw new GradsyncError('E_ALLREDUCE_CLOSED', 'ring all-reduce is closed');
    if (this.group) throw new GradsyncError('E_ALLREDUCE_STATE', 'connect() was already called');
    checkGroup(group);
    this.group = { ...group, peers: [...group.peers] };
    if (group.world === 1) {
      this.connected = true;
      return;
    }
    const nextRank = ringNext(group.rank, group.world);
    const prevRank = ringPrev(group.rank, group.world);
    const admitted = new Promise<WebSocket>((resolve) => (this.prevAdmitted = resolve));
    for (const arrival of this.parked.splice(0)) this.admit(arrival);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const refused = this.lastRefusal ? ` (refused a link: ${this.lastRefusal})` : '';
        reject(new GradsyncError('E_PEER_CONNECT_TIMEOUT', `rank ${prevRank} did not link to rank ${group.rank} within ${this.connectTimeoutMs} ms${refused}`));
      }, this.connectTimeoutMs);
    });
    try {
      const hello = peerHello({ runId: group.runId, rank: group.rank, token: group.token, segmentBytes: this.segmentBytes });
      const { dialUrl, fingerprint } = splitPeerUrl(group.peers[nextRank]);
      const dialed = dialPeer(dialUrl, hello, { runId: group.runId, rank: nextRank }, {
        timeoutMs: this.connectTimeoutMs,
        maxPayload: 65536,
        maskFrames: this.maskFrames,
        tls: fingerprint ? { fingerprint, identity: this.tls } : undefined,
      });
      // If connect() fails first, a link dialed later must not linger or raise an unhandled rejection.
      dialed.then((ws) => (this.failure || this.closed ? ws.terminate() : undefined), () => {});
      const [next] = await Promise.race([Promise.all([dialed, admitted]), deadline]);
      if (this.closed) {
        next.terminate();
        throw new GradsyncError('E_ALLREDUCE_CLOSED', 'ring all-reduce was closed while connecting');
      }
      this.attachNext(next, nextRank);
      this.connected = true;
    } catch (err) {
      const error = err instanceof GradsyncError ? err : new GradsyncError('E_PEER_CONNECT', String(err), { cause: err });
      this.fail(error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  allReduceSum(data: Float32Array, opId: number): Promise<Float32Array> {
    if (!(data instanceof Float32Array)) return Promise.reject(new GradsyncError('E_ALLREDUCE_ARG', 'allReduceSum needs a Float32Array'));
    if (!Number.isInteger(opId) || opId < 0 || opId > MAX_OP_ID) {
      return Promise.reject(new GradsyncError('E_ALLREDUCE_ARG', `operation id must be an integer in 0..${MAX_OP_ID}, got ${opId}`));
    }
    if (this.closed) return Promise.reject(new GradsyncError('E_ALLREDUCE_CLOSED', `ring all-reduce op ${opId}: the reducer is closed`));
    if (this.failure) return Promise.reject(this.failure);
    const group = this.group;
    if (!group || !this.connected) {
      return Promise.reject(new GradsyncError('E_ALLREDUCE_STATE', `ring all-reduce op ${opId}: connect() has not completed`));
    }
    if (group.world === 1) return Promise.resolve(data);
    if (this.op) {
      return Promise.reject(new GradsyncError('E_ALLREDUCE_BUSY', `ring all-reduce op ${opId}: op ${this.op.id} is still running (one at a time)`));
    }
    return new Promise<Float32Array>((resolve, reject) => {
      const ring = new RingOperation(data, group.rank, group.world, segmentElementsForBytes(this.segmentBytes));
      const timer = setTimeout(() => {
        const prevRank = ringPrev(group.rank, group.world);
        this.fail(
          new GradsyncError(
            'E_ALLREDUCE_TIMEOUT',
            `ring all-reduce op ${opId} on rank ${group.rank} did not finish within ${this.timeoutMs} ms ` +
              `(received ${ring.receivedCount}/${ring.totalReceives} segments from rank ${prevRank}, ${this.op?.pendingSends ?? 0} sends unflushed)`,
          ),
        );
      }, this.timeoutMs);
      const op: RunningOp = { id: opId, data, ring, pendingSends: 0, resolve, reject, timer };
      this.op = op;
      for (const t of ring.initialSends) this.sendSegment(op, t);
      // Frames that arrived before this call; any left once the operation has all it needs belong
      // to the next one.
      while (this.early.length > 0 && this.op === op && !ring.done) {
        const frame = this.early.shift()!;
        this.earlyBytes -= frame.payload.byteLength;
        this.applyFrame(op, frame);
      }
      this.maybeFinish(op);
    });
  }

  /** Closes the links and the listener; a running operation rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.finishOp(new GradsyncError('E_ALLREDUCE_CLOSED', `ring all-reduce op ${this.op?.id}: the reducer was closed`));
    await Promise.all([...this.sockets].map((ws) => closeLink(ws, CLOSE.normal, 'ring all-reduce closed')));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.httpServer.closeAllConnections();
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
  }

  // ---- links ----

  private track(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('error', () => {}); // every error is followed by 'close', handled below
    ws.once('close', () => this.sockets.delete(ws));
  }

  private onInbound(ws: WebSocket, certificate: string | undefined): void {
    this.track(ws);
    ws.binaryType = 'nodebuffer';
    if (this.closed) {
      void closeLink(ws, CLOSE.normal, 'ring all-reduce closed');
      return;
    }
    readHello(ws, this.connectTimeoutMs).then(
      (hello) => this.admit({ ws, hello, certificate }),
      (err: Error) => {
        this.lastRefusal = err.message;
        void closeLink(ws, CLOSE.protocolError, err.message);
      },
    );
  }

  /** Admits rank−1 or refuses with the reason; parks the hello until the group is known. */
  private admit({ ws, hello, certificate }: Arrival): void {
    const group = this.group;
    if (!group) {
      this.parked.push({ ws, hello, certificate });
      return;
    }
    const reason =
      this.closed || this.failure
        ? 'ring all-reduce is closed'
        : this.prev
          ? `rank ${group.rank} already has its link from rank ${ringPrev(group.rank, group.world)}`
          : (certificateRefusal(splitPeerUrl(group.peers[ringPrev(group.rank, group.world)]).fingerprint, certificate, hello.rank) ??
            refusalReason(hello, { runId: group.runId, expectedRank: ringPrev(group.rank, group.world), token: group.token, segmentBytes: this.segmentBytes }));
    if (reason) {
      this.lastRefusal = reason;
      void closeLink(ws, CLOSE.policy, reason);
      return;
    }
    this.prev = ws;
    this.reader = new FrameReader(`ring link from rank ${hello.rank}`);
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onPrevMessage(data, isBinary));
    ws.once('close', (code: number, why: Buffer) => this.onLinkClosed(`from rank ${hello.rank}`, code, why));
    ws.send(encode(peerWelcome({ runId: group.runId, rank: group.rank })));
    this.prevAdmitted?.(ws);
  }

  private attachNext(ws: WebSocket, rank: number): void {
    this.track(ws);
    this.next = ws;
    ws.on('message', () => this.fail(new ProtocolError(`ring link to rank ${rank} sent data on a send-only link; closed the link`)));
    ws.once('close', (code: number, why: Buffer) => this.onLinkClosed(`to rank ${rank}`, code, why));
  }

  private onLinkClosed(which: string, code: number, why: Buffer): void {
    if (this.closed) return;
    const reason = why.toString('utf8');
    this.fail(new GradsyncError('E_PEER_LINK_CLOSED', `ring link ${which} closed (code ${code}${reason ? `: ${reason}` : ''})${this.op ? ` during op ${this.op.id}` : ''}`));
  }

  // ---- data path ----

  private onPrevMessage(data: Buffer, isBinary: boolean): void {
    if (this.failure || this.closed) return;
    if (!isBinary) {
      this.fail(new ProtocolError(`ring link from rank ${this.prevRank()} sent a text message; closed the link`));
      return;
    }
    const out = this.reader!.push(data);
    if (out === null) return;
    if (out instanceof ProtocolError) {
      this.fail(new ProtocolError(`${this.opPrefix()}${out.message}; closed the link`));
      return;
    }
    const op = this.op;
    if (op && !op.ring.done) {
      this.applyFrame(op, out);
      this.maybeFinish(op);
      return;
    }
    this.earlyBytes += out.payload.byteLength;
    if (this.earlyBytes > this.maxEarlyBytes) {
      this.fail(new ProtocolError(`ring link from rank ${this.prevRank()} sent ${this.earlyBytes} bytes ahead of any operation here; closed the link`));
      return;
    }
    this.early.push(out);
  }

  private applyFrame(op: RunningOp, frame: Frame): void {
    const t = op.ring.expected;
    const err = validateRingSegment(frame.header, t && {
      opId: op.id,
      phase: t.phase,
      step: t.step,
      chunk: t.chunk,
      segment: t.segment,
      floatCount: t.end - t.start,
    });
    if (err) {
      this.fail(new ProtocolError(`${this.opPrefix()}ring link from rank ${this.prevRank()}: ${err.message} (do all ranks pass the same op id and length?); closed the link`));
      return;
    }
    const forward = op.ring.accept(floatsFromBytes(frame.payload, 'ring segment'));
    if (forward) this.sendSegment(op, forward);
  }

  private sendSegment(op: RunningOp, t: SegmentTransfer): void {
    const next = this.next!;
    const floatCount = t.end - t.start;
    next.send(encodeFrameHeader({ kind: 'ring-segment', opId: op.id, phase: t.phase, step: t.step, chunk: t.chunk, segment: t.segment, floatCount }));
    op.pendingSends++;
    const payload = Buffer.from(op.data.buffer, op.data.byteOffset + t.start * 4, floatCount * 4);
    next.send(payload, (err) => {
      op.pendingSends--;
      if (err) {
        if (this.op === op) this.fail(new GradsyncError('E_PEER_LINK_CLOSED', `${this.opPrefix()}sending to rank ${this.nextRank()} failed: ${err.message}`));
        return;
      }
      this.maybeFinish(op);
    });
  }

  private maybeFinish(op: RunningOp): void {
    if (this.op === op && op.ring.done && op.pendingSends === 0) this.finishOp(null);
  }

  private finishOp(err: GradsyncError | null): void {
    const op = this.op;
    if (!op) return;
    this.op = null;
    clearTimeout(op.timer);
    if (err) op.reject(err);
    else op.resolve(op.data);
  }

  /** Any failure is final: links close with the reason, the running operation rejects. */
  private fail(err: GradsyncError): void {
    if (this.failure || this.closed) return;
    this.failure = err;
    this.finishOp(err);
    const code = err instanceof ProtocolError ? CLOSE.protocolError : CLOSE.internal;
    for (const ws of this.sockets) void closeLink(ws, code, err.message);
    this.early = [];
    this.earlyBytes = 0;
  }

  private opPrefix(): string {
    return this.op ? `ring all-reduce op ${this.op.id} on rank ${this.group?.rank}: ` : `ring all-reduce on rank ${this.group?.rank}: `;
  }

  private prevRank(): number {
    const g = this.group!;
    return ringPrev(g.rank, g.world);
  }

  private nextRank(): number {
    const g = this.group!;
    return ringNext(g.rank, g.world);
  }
}

function checkGroup(group: RingGroup): void {
  const bad = (what: string) => {
    throw new GradsyncError('E_ALLREDUCE_ARG', `ring group: ${what}`);
  };
  if (!Number.isInteger(group.world) || group.world < 1 || group.world > MAX_WORLD) bad(`world must be an integer in 1..${MAX_WORLD}, got ${group.world}`);
  if (!Number.isInteger(group.rank) || group.rank < 0 || group.rank >= group.world) bad(`rank must be in 0..${group.world - 1}, got ${group.rank}`);
  if (!Array.isArray(group.peers) || group.peers.length !== group.world) bad(`peers must list ${group.world} URLs, got ${group.peers?.length}`);
  for (const url of group.peers) if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) bad(`peer URL ${JSON.stringify(url)} is not a ws:// URL`);
  if (typeof group.runId !== 'string' || group.runId.length === 0) bad('runId must be a non-empty string');
  if (group.token !== undefined && typeof group.token !== 'string') bad('token must be a string');
}

