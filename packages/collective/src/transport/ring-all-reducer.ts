/**
 * Ring all-reduce over WebSocket links (the transport; the schedule is core's RingOperation).
 * (~420 lines: listening, linking and the data path share one lifecycle and the running
 * operation; what is pure lives in ring-lifecycle.ts and core's RingOperation.)
 *
 * Each rank listens (port 0 by default: the OS picks), is told every rank's URL, dials rank+1 and
 * admits rank−1. Data flows one way around the ring: segments go out on the dialed link and come
 * in on the admitted one. Segments are pipelined: a received segment is added (or copied) and sent
 * on at once, while later segments are still arriving, so sending, receiving and adding overlap
 * across the whole operation. Sends are views of the caller's Float32Array (no copy), header and
 * payload in one write; the operation resolves only after every send has been handed to the kernel,
 * so the caller may then reuse the array. Receives land in place: an all-gather segment straight
 * into the caller's array, a reduce-scatter segment into a scratch allocated once per reducer and
 * added from there (see Note [Link take-over] in segment-link.ts). On a 16-bit wire (the group's
 * `wireDtype`, Note [Wire rounding]) sends are encoded into a buffer the reducer owns, and every
 * received segment lands in the scratch and is decoded from there.
 *
 * Frames for the next operation can arrive before this rank's caller starts it (rank−1 finished
 * first); they are kept, in order, in a reused buffer (early-frames.ts) and replayed when it starts.
 */
import http from 'node:http';
import https from 'node:https';
import WebSocket, { WebSocketServer } from 'ws';
import { GradsyncError } from '@gradsync/core';
import { type AllowList, refuseOutsiders, type TlsIdentity } from '@gradsync/core/cluster';
import {
  createSegmentAdder,
  encodeWire,
  RingOperation,
  ringNext,
  ringPrev,
  type SegmentAdder,
  segmentElementsForBytes,
  type SegmentTransfer,
  wireBytesPerElement,
  type WireDtype,
} from '../algorithms/index';
import { CLOSE, ProtocolError, encode } from '@gradsync/core/protocol';
import {
  decodeFrameHeader,
  encodeFrameHeader,
  FRAME_HEADER_BYTES,
  MAX_SEGMENT_BYTES,
  MIN_SEGMENT_BYTES,
  peerHello,
  peerWelcome,
  validateRingSegment,
  type PeerHello,
  type RingSegmentHeader,
} from '../wire/peer';
import { EarlyFrames } from './early-frames';
import { SegmentLink, takeSocket } from './segment-link';
import { badOperationArgs, type AllReducer, type WireBytes } from './all-reducer';
import { dialPeer, readHello } from './peer-handshake';
import { certificateRefusal, clientFingerprint, peerUrlWithFingerprint, splitPeerUrl } from './ring-tls';
import { closeLink } from './peer-socket';
import { checkGroup, type InboundLink, type Lifecycle, refusalFor, type RingGroup } from './ring-lifecycle';

export type { RingGroup } from './ring-lifecycle';

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

export const DEFAULT_SEGMENT_BYTES = 1024 * 1024;

type Settings = Required<Omit<RingAllReducerOptions, 'host' | 'port' | 'advertiseHost' | 'allow' | 'onRefused' | 'tls'>> & { tls?: TlsIdentity };

interface RunningOp {
  readonly id: number;
  readonly data: Float32Array;
  readonly ring: RingOperation;
  /** What its floats travel as: the group's. */
  readonly wire: WireDtype;
  /** The link to rank+1, which every segment of this operation goes out on. */
  readonly next: SegmentLink;
  readonly nextRank: number;
  pendingSends: number;
  readonly resolve: (data: Float32Array) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** The segment being received from rank−1: for the running operation, or kept for a later one. */
type Incoming = { readonly op: RunningOp; readonly placed: boolean; readonly floats: number } | { readonly early: true };

interface Arrival {
  ws: WebSocket;
  hello: PeerHello;
  /** SHA-256 of the dialer's TLS certificate, when it showed one. */
  certificate?: string;
}

export class RingAllReducer implements AllReducer {
  readonly algorithm = 'ring' as const;
  readonly wire: WireBytes = { sent: 0, received: 0 };
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
  private life: Lifecycle = { state: 'listening' };
  private readonly parked: Arrival[] = [];
  private readonly sockets = new Set<WebSocket>();
  private lastRefusal: string | null = null;
  private readonly links = new Set<SegmentLink>();
  private op: RunningOp | null = null;
  private readonly early = new EarlyFrames();
  private incoming: Incoming | null = null;
  /**
   * With a 16-bit wire, what the sends are encoded into: one slot per element and phase (a rank
   * sends each element at most once per phase), so no send overwrites another still in flight.
   * Grown to the largest operation and then reused.
   */
  private wireOut = new Uint16Array(0);
  /** The reduce-scatter's add and the scratch its segments are received into (16-bit segments too: they are half the size). */
  private readonly adder: SegmentAdder;

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
    this.adder = createSegmentAdder(segmentElementsForBytes(options.segmentBytes));
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
        // Taken-over links never close as ws sees it (Note [Link take-over]); tracking them would keep close() waiting.
        clientTracking: false,
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
    if (this.life.state === 'closed') throw new GradsyncError('E_ALLREDUCE_CLOSED', 'ring all-reduce is closed');
    if (this.life.state !== 'listening') throw new GradsyncError('E_ALLREDUCE_STATE', 'connect() was already called');
    checkGroup(group);
    const known = { ...group, peers: [...group.peers] };
    if (group.world === 1) {
      this.life = { state: 'linked', group: known, links: null };
      return;
    }
    const nextRank = ringNext(group.rank, group.world);
    const prevRank = ringPrev(group.rank, group.world);
    const admitted = new Promise<SegmentLink>((resolve) => (this.life = { state: 'connecting', group: known, prev: null, admitted: resolve }));
    for (const arrival of this.parked.splice(0)) this.admit(arrival);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const refused = this.lastRefusal ? ` (refused a link: ${this.lastRefusal})` : '';
        reject(new GradsyncError('E_PEER_CONNECT_TIMEOUT', `rank ${prevRank} did not link to rank ${group.rank} within ${this.connectTimeoutMs} ms${refused}`));
      }, this.connectTimeoutMs);
    });
    try {
      const hello = peerHello({ runId: group.runId, rank: group.rank, token: group.token, segmentBytes: this.segmentBytes, wireDtype: group.wireDtype });
      const { dialUrl, fingerprint } = splitPeerUrl(group.peers[nextRank]);
      const dialed = dialPeer(
        dialUrl,
        hello,
        { runId: group.runId, rank: nextRank },
        {
          timeoutMs: this.connectTimeoutMs,
          maxPayload: 65536,
          maskFrames: this.maskFrames,
          tls: fingerprint ? { fingerprint, identity: this.tls } : undefined,
        },
      );
      // If connect() fails first, a link dialed later must not linger or raise an unhandled rejection.
      dialed.then(
        (ws) => (this.life.state === 'failed' || this.life.state === 'closed' ? ws.terminate() : undefined),
        () => {},
      );
      const [next] = await Promise.race([Promise.all([dialed, admitted]), deadline]);
      this.linkUp(next, nextRank);
    } catch (err) {
      const error = err instanceof GradsyncError ? err : new GradsyncError('E_PEER_CONNECT', String(err), { cause: err });
      this.fail(error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  allReduceSum(data: Float32Array, opId: number): Promise<Float32Array> {
    const badArgs = badOperationArgs(data, opId);
    if (badArgs) return Promise.reject(badArgs);
    const life = this.life;
    if (life.state === 'closed') return Promise.reject(new GradsyncError('E_ALLREDUCE_CLOSED', `ring all-reduce op ${opId}: the reducer is closed`));
    if (life.state === 'failed') return Promise.reject(life.error);
    if (life.state !== 'linked') {
      return Promise.reject(new GradsyncError('E_ALLREDUCE_STATE', `ring all-reduce op ${opId}: connect() has not completed`));
    }
    const { group, links } = life;
    if (links === null) return Promise.resolve(data);
    if (this.op) {
      return Promise.reject(new GradsyncError('E_ALLREDUCE_BUSY', `ring all-reduce op ${opId}: op ${this.op.id} is still running (one at a time)`));
    }
    return new Promise<Float32Array>((resolve, reject) => {
      const wire = group.wireDtype ?? 'f32';
      const ring = new RingOperation(data, group.rank, group.world, segmentElementsForBytes(this.segmentBytes), this.adder.add, wire);
      if (wire !== 'f32' && this.wireOut.length < 2 * data.length) this.wireOut = new Uint16Array(2 * data.length);
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
      const op: RunningOp = {
        id: opId,
        data,
        ring,
        wire,
        next: links.next,
        nextRank: ringNext(group.rank, group.world),
        pendingSends: 0,
        resolve,
        reject,
        timer,
      };
      this.op = op;
      for (const t of ring.initialSends) this.sendSegment(op, t);
      this.replayEarly(op, links.prev);
      this.maybeFinish(op);
    });
  }

  /** Closes the links and the listener; a running operation rejects. */
  async close(): Promise<void> {
    if (this.life.state === 'closed') return;
    this.life = { state: 'closed', group: this.groupOrNull() };
    this.finishOp(new GradsyncError('E_ALLREDUCE_CLOSED', `ring all-reduce op ${this.op?.id}: the reducer was closed`));
    await Promise.all([
      ...[...this.sockets].map((ws) => closeLink(ws, CLOSE.normal, 'ring all-reduce closed')),
      ...[...this.links].map((link) => link.close(CLOSE.normal, 'ring all-reduce closed')),
    ]);
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
    if (this.life.state === 'closed') {
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
    const life = this.life;
    if (life.state === 'listening') {
      this.parked.push({ ws, hello, certificate });
      return;
    }
    const reason =
      refusalFor(life, hello, this.segmentBytes) ??
      (life.state === 'connecting'
        ? certificateRefusal(splitPeerUrl(life.group.peers[ringPrev(life.group.rank, life.group.world)] ?? '').fingerprint, certificate, hello.rank)
        : null);
    if (reason !== null || life.state !== 'connecting') {
      this.lastRefusal = reason;
      void closeLink(ws, CLOSE.policy, reason ?? 'ring all-reduce is closed');
      return;
    }
    const { group } = life;
    ws.send(encode(peerWelcome({ runId: group.runId, rank: group.rank })));
    const what = `ring link from rank ${hello.rank}`;
    let link: SegmentLink;
    try {
      link = this.adopt(ws, 'server', what, {
        begin: (prefix, length) => this.beginSegment(prev, prefix, length),
        end: () => this.endSegment(prev),
        closed: (error) => this.onLinkClosed(error),
      });
    } catch (err) {
      this.fail(err as GradsyncError);
      return;
    }
    const prev: InboundLink = { link, fromRank: hello.rank };
    this.life = { ...life, prev };
    life.admitted(link);
  }

  /** Both links are up: the dialed one to rank+1 becomes the send link. */
  private linkUp(next: WebSocket, nextRank: number): void {
    const life = this.life;
    if (life.state !== 'connecting' || life.prev === null) {
      // Closed or failed while dialing: connect() still resolves (operations reject with the reason).
      next.terminate();
      if (life.state === 'closed') throw new GradsyncError('E_ALLREDUCE_CLOSED', 'ring all-reduce was closed while connecting');
      return;
    }
    this.track(next);
    const what = `ring link to rank ${nextRank}`;
    const link = this.adopt(next, 'client', what, {
      begin: () => new ProtocolError(`${what} sent data on a send-only link`),
      end: () => {},
      closed: (error) => this.onLinkClosed(error),
    });
    this.life = { state: 'linked', group: life.group, links: { prev: life.prev, next: link } };
  }

  /** Takes a handshaken link over from ws (Note [Link take-over] in segment-link.ts). */
  private adopt(ws: WebSocket, role: 'client' | 'server', what: string, events: ConstructorParameters<typeof SegmentLink>[2]): SegmentLink {
    const socket = takeSocket(ws);
    this.sockets.delete(ws);
    const link = new SegmentLink(
      socket,
      { role, maskFrames: this.maskFrames, prefixBytes: FRAME_HEADER_BYTES, maxPayload: FRAME_HEADER_BYTES + this.segmentBytes, what },
      events,
    );
    this.links.add(link);
    link.socket.once('close', () => this.links.delete(link));
    return link;
  }

  private onLinkClosed(error: GradsyncError): void {
    if (this.life.state === 'closed') return;
    if (error instanceof ProtocolError) this.fail(new ProtocolError(`${this.opPrefix()}${error.message}; closed the link`));
    else this.fail(new GradsyncError(error.code, `${error.message}${this.op ? ` during op ${this.op.id}` : ''}`));
  }

  // ---- data path ----

  /** A segment's header has arrived from rank−1: where its payload goes (see the file comment). */
  private beginSegment(prev: InboundLink, prefix: Uint8Array, length: number): Uint8Array | ProtocolError {
    // Refusals go back through the link, which names it; onLinkClosed adds the operation.
    const where = `ring link from rank ${prev.fromRank}`;
    const header = decodeFrameHeader(prefix);
    if (header instanceof ProtocolError) return new ProtocolError(`${where}: ${header.message}`);
    if (header.kind !== 'ring-segment') return new ProtocolError(`${where}: expected a ring segment, got a ${header.kind} frame`);
    const bytes = header.floatCount * this.elementBytes();
    if (bytes !== length - FRAME_HEADER_BYTES) {
      return new ProtocolError(`${where}: ring segment announces ${bytes} payload bytes but its message carries ${length - FRAME_HEADER_BYTES}`);
    }
    this.wire.received += length;
    const op = this.op;
    if (op && !op.ring.done) {
      const err = this.checkExpected(op, header);
      if (err) return new ProtocolError(`${where}: ${err.message} (do all ranks pass the same op id and length?)`);
      const t = op.ring.expected!;
      // A 16-bit segment is decoded from the scratch; a float32 all-gather segment lands in place.
      const placed = t.combine === 'copy' && op.wire === 'f32';
      this.incoming = { op, placed, floats: header.floatCount };
      if (placed) return new Uint8Array(op.data.buffer, op.data.byteOffset + t.start * 4, bytes);
      return new Uint8Array(this.adder.scratch.buffer, this.adder.scratch.byteOffset, bytes);
    }
    if (this.early.bytes + bytes > this.maxEarlyBytes) {
      return new ProtocolError(`ring link from rank ${prev.fromRank} sent ${this.early.bytes + bytes} bytes ahead of any operation here`);
    }
    this.incoming = { early: true };
    return this.early.reserve(header, bytes);
  }

  /** The payload chosen in beginSegment is complete. */
  private endSegment(prev: InboundLink): void {
    const incoming = this.incoming;
    this.incoming = null;
    if (incoming === null) return;
    if ('early' in incoming) {
      this.early.commit();
      // The operation may have started while this segment was on its way in.
      const op = this.op;
      if (op && !op.ring.done) {
        this.replayEarly(op, prev);
        this.maybeFinish(op);
      }
      return;
    }
    const { op } = incoming;
    if (this.op !== op) return; // failed while the segment came in
    const forward = incoming.placed ? op.ring.acceptPlaced() : op.ring.accept(this.received(op, this.adder.scratch, incoming.floats));
    if (forward) this.sendSegment(op, forward);
    this.maybeFinish(op);
  }

  /** Applies the kept segments in order, as far as the running operation needs them. */
  private replayEarly(op: RunningOp, prev: InboundLink): void {
    while (this.op === op && !op.ring.done) {
      const frame = this.early.shift();
      if (frame === null) return;
      const err = this.checkExpected(op, frame.header);
      if (err) {
        this.fail(
          new ProtocolError(
            `${this.opPrefix()}ring link from rank ${prev.fromRank}: ${err.message} (do all ranks pass the same op id and length?); closed the link`,
          ),
        );
        return;
      }
      const forward = op.ring.accept(this.received(op, frame.payload, frame.payload.byteLength / wireBytesPerElement(op.wire)));
      if (forward) this.sendSegment(op, forward);
    }
  }

  /** A received payload as the running operation reads it. */
  private received(op: RunningOp, bytes: ArrayBufferView, elements: number): Float32Array | Uint16Array {
    return op.wire === 'f32' ? new Float32Array(bytes.buffer, bytes.byteOffset, elements) : new Uint16Array(bytes.buffer, bytes.byteOffset, elements);
  }

  /** Bytes per element on this group's wire (f32 before a group is known). */
  private elementBytes(): 2 | 4 {
    return wireBytesPerElement(this.groupOrNull()?.wireDtype ?? 'f32');
  }

  private checkExpected(op: RunningOp, header: RingSegmentHeader): ProtocolError | null {
    const t = op.ring.expected;
    return validateRingSegment(header, t && { opId: op.id, phase: t.phase, step: t.step, chunk: t.chunk, segment: t.segment, floatCount: t.end - t.start });
  }

  private sendSegment(op: RunningOp, t: SegmentTransfer): void {
    const floatCount = t.end - t.start;
    const header = encodeFrameHeader({ kind: 'ring-segment', opId: op.id, phase: t.phase, step: t.step, chunk: t.chunk, segment: t.segment, floatCount });
    let payload: Uint8Array;
    if (op.wire === 'f32') {
      payload = new Uint8Array(op.data.buffer, op.data.byteOffset + t.start * 4, floatCount * 4);
    } else {
      const slot = (t.phase === 'all-gather' ? op.data.length : 0) + t.start;
      encodeWire(op.wire, op.data, t.start, t.end, this.wireOut, slot);
      payload = new Uint8Array(this.wireOut.buffer, slot * 2, floatCount * 2);
    }
    this.wire.sent += header.byteLength + payload.byteLength;
    op.pendingSends++;
    op.next.send(header, payload, (err) => {
      op.pendingSends--;
      if (err) {
        if (this.op === op) this.fail(new GradsyncError('E_PEER_LINK_CLOSED', `${this.opPrefix()}sending to rank ${op.nextRank} failed: ${err.message}`));
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
    if (this.life.state === 'failed' || this.life.state === 'closed') return;
    this.life = { state: 'failed', group: this.groupOrNull(), error: err };
    this.finishOp(err);
    const code = err instanceof ProtocolError ? CLOSE.protocolError : CLOSE.internal;
    for (const ws of this.sockets) void closeLink(ws, code, err.message);
    for (const link of this.links) void link.close(code, err.message);
    this.early.clear();
    this.incoming = null;
  }

  private groupOrNull(): RingGroup | null {
    return this.life.state === 'listening' ? null : this.life.group;
  }

  private opPrefix(): string {
    const rank = this.groupOrNull()?.rank;
    return this.op ? `ring all-reduce op ${this.op.id} on rank ${rank}: ` : `ring all-reduce on rank ${rank}: `;
  }
}
