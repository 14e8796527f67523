/**
 * All-reduce over WebSocket links between the ranks (the transport; the algorithms are pure state
 * machines in algorithms/: the ring's RingOperation and HalvingDoublingOperation, chosen per
 * operation by size and world, Note [Algorithm by size]).
 * (~600 lines: listening, linking and the data path share one lifecycle and the running
 * operation; what is pure lives in ring-lifecycle.ts and algorithms/.)
 *
 * Each rank listens (port 0 by default: the OS picks), is told every rank's URL, dials the ranks
 * it sends to and admits the ranks it receives from (linkPlan: rank+1 and rank−1 for the ring,
 * plus every halving-doubling partner both ways where that can run). Each link carries data one
 * way, in order. Segments are pipelined: a received segment is added (or copied) and what it
 * completes is sent on at once, while later segments are still arriving. Sends are views of the
 * caller's Float32Array (no copy), header and payload in one write; the operation resolves only
 * after every send has been handed to the kernel, so the caller may then reuse the array.
 * Receives land in place: an all-gather segment straight into the caller's array, a halving-
 * doubling reduce-scatter segment into staging the reducer owns, a ring reduce-scatter segment
 * into a scratch allocated once per reducer and added from there (see Note [Link take-over] in
 * segment-link.ts). On a 16-bit wire (the group's `wireDtype`, Note [Wire rounding]; ring only)
 * sends are encoded into a buffer the reducer owns, and every received segment lands in the
 * scratch and is decoded from there.
 *
 * Frames for the next operation can arrive before this rank's caller starts it (a peer finished
 * first); they are kept, in order, per link, in a reused buffer (early-frames.ts) and replayed
 * when it starts.
 */
import http from 'node:http';
import https from 'node:https';
import WebSocket, { WebSocketServer } from 'ws';
import { GradsyncError } from '@gradsync/core';
import { type AllowList, refuseOutsiders, type TlsIdentity } from '@gradsync/cluster';
import {
  type AllReduceAlgorithm,
  chooseAlgorithm,
  createSegmentAdder,
  encodeWire,
  HALVING_DOUBLING_MAX_BYTES,
  HalvingDoublingOperation,
  halvingDoublingScratchLength,
  type PeerOperation,
  type PeerTransfer,
  RingOperation,
  RingPeerOperation,
  ringNext,
  ringPrev,
  type SegmentAdder,
  segmentElementsForBytes,
  wireBytesPerElement,
  type WireDtype,
} from '../algorithms/index';
import { CLOSE, ProtocolError, encode } from '@gradsync/protocol';
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
import { checkGroup, type InboundLink, type Lifecycle, linkPlan, type Links, refusalFor, type RingGroup } from './ring-lifecycle';

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
  /**
   * Buffers up to this many bytes run halving-doubling where the group allows it (Note [Algorithm
   * by size]; default HALVING_DOUBLING_MAX_BYTES, 0: always the ring). Every rank must use the same.
   */
  halvingDoublingMaxBytes?: number;
}

export const DEFAULT_SEGMENT_BYTES = 1024 * 1024;

type Settings = Required<Omit<RingAllReducerOptions, 'host' | 'port' | 'advertiseHost' | 'allow' | 'onRefused' | 'tls'>> & { tls?: TlsIdentity };

interface RunningOp {
  readonly id: number;
  readonly data: Float32Array;
  readonly algorithm: AllReduceAlgorithm;
  readonly operation: PeerOperation;
  /** What its floats travel as: the group's. */
  readonly wire: WireDtype;
  /** The dialed links, by receiving rank: each segment goes out on its peer's. */
  readonly outbound: Links['outbound'];
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
  /** Every admitted link (their early frames are dropped on failure). */
  private readonly inbound = new Set<InboundLink>();
  private op: RunningOp | null = null;
  private readonly halvingDoublingMaxBytes: number;
  /** Halving-doubling's reduce-scatter staging: grown to the largest operation, then reused. */
  private staging = new Float32Array(0);
  /** Operations run so far by each algorithm (for tests and the bench). */
  readonly operationsBy: Record<AllReduceAlgorithm, number> = { ring: 0, 'halving-doubling': 0 };
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
    this.halvingDoublingMaxBytes = options.halvingDoublingMaxBytes;
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
    const halvingDoublingMaxBytes = options.halvingDoublingMaxBytes ?? HALVING_DOUBLING_MAX_BYTES;
    if (!Number.isSafeInteger(halvingDoublingMaxBytes) || halvingDoublingMaxBytes < 0) {
      return Promise.reject(
        new GradsyncError('E_ALLREDUCE_ARG', `halvingDoublingMaxBytes must be a whole number of bytes ≥ 0 (0: the ring only), got ${halvingDoublingMaxBytes}`),
      );
    }
    const settings = {
      segmentBytes,
      timeoutMs: options.timeoutMs ?? 60_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      maxEarlyBytes: options.maxEarlyBytes ?? 2 ** 30,
      maskFrames: options.maskFrames ?? false,
      tls: options.tls,
      halvingDoublingMaxBytes,
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
    const plan = linkPlan(group.rank, group.world, group.wireDtype ?? 'f32', this.halvingDoublingMaxBytes);
    const inbound = new Map<number, InboundLink>();
    const admitted = new Promise<void>((resolve) => (this.life = { state: 'connecting', group: known, admit: plan.admit, inbound, admitted: resolve }));
    for (const arrival of this.parked.splice(0)) this.admit(arrival);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const refused = this.lastRefusal ? ` (refused a link: ${this.lastRefusal})` : '';
        const missing = plan.admit.filter((r) => !inbound.has(r));
        const who =
          missing.length > 0
            ? `rank ${missing.join(', ')} did not link to rank ${group.rank}`
            : `rank ${group.rank} could not link to rank ${plan.dial.join(', ')}`;
        reject(new GradsyncError('E_PEER_CONNECT_TIMEOUT', `${who} within ${this.connectTimeoutMs} ms${refused}`));
      }, this.connectTimeoutMs);
    });
    try {
      const hello = peerHello({
        runId: group.runId,
        rank: group.rank,
        token: group.token,
        segmentBytes: this.segmentBytes,
        wireDtype: group.wireDtype,
        halvingDoublingMaxBytes: this.halvingDoublingMaxBytes,
      });
      const dials = plan.dial.map(async (rank) => {
        const { dialUrl, fingerprint } = splitPeerUrl(group.peers[rank]);
        const dialed = dialPeer(
          dialUrl,
          hello,
          { runId: group.runId, rank },
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
        return [rank, await dialed] as const;
      });
      const [dialed] = await Promise.race([Promise.all([Promise.all(dials), admitted]), deadline]);
      this.linkUp(new Map(dialed));
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
    const wire = group.wireDtype ?? 'f32';
    const algorithm = chooseAlgorithm({ bytes: data.byteLength, world: group.world, wire, maxHalvingDoublingBytes: this.halvingDoublingMaxBytes });
    if (this.op) {
      return Promise.reject(new GradsyncError('E_ALLREDUCE_BUSY', `ring all-reduce op ${opId}: op ${this.op.id} is still running (one at a time)`));
    }
    return new Promise<Float32Array>((resolve, reject) => {
      const operation = this.operationFor(algorithm, data, group);
      if (wire !== 'f32' && this.wireOut.length < 2 * data.length) this.wireOut = new Uint16Array(2 * data.length);
      const timer = setTimeout(() => {
        const from = algorithm === 'ring' ? ` from rank ${ringPrev(group.rank, group.world)}` : '';
        this.fail(
          new GradsyncError(
            'E_ALLREDUCE_TIMEOUT',
            `${algorithm} all-reduce op ${opId} on rank ${group.rank} did not finish within ${this.timeoutMs} ms ` +
              `(received ${operation.receivedCount}/${operation.totalReceives} segments${from}, ${this.op?.pendingSends ?? 0} sends unflushed)`,
          ),
        );
      }, this.timeoutMs);
      const op: RunningOp = { id: opId, data, algorithm, operation, wire, outbound: links.outbound, pendingSends: 0, resolve, reject, timer };
      this.op = op;
      this.operationsBy[algorithm]++;
      for (const t of operation.initialSends) this.sendSegment(op, t);
      for (const inbound of links.inbound.values()) this.replayEarly(op, inbound);
      this.maybeFinish(op);
    });
  }

  /** The running state of one operation by `algorithm` (Note [Algorithm by size]). */
  private operationFor(algorithm: AllReduceAlgorithm, data: Float32Array, group: RingGroup): PeerOperation {
    const { rank, world } = group;
    const segmentElements = segmentElementsForBytes(this.segmentBytes);
    if (algorithm === 'halving-doubling') {
      const need = halvingDoublingScratchLength(rank, world, data.length);
      if (this.staging.length < need) this.staging = new Float32Array(need);
      return new HalvingDoublingOperation(data, rank, world, segmentElements, this.staging, this.adder.add);
    }
    const ring = new RingOperation(data, rank, world, segmentElements, this.adder.add, group.wireDtype ?? 'f32');
    return new RingPeerOperation(ring, data, ringPrev(rank, world), ringNext(rank, world));
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
      refusalFor(life, hello, { segmentBytes: this.segmentBytes, halvingDoublingMaxBytes: this.halvingDoublingMaxBytes }) ??
      (life.state === 'connecting' ? certificateRefusal(splitPeerUrl(life.group.peers[hello.rank] ?? '').fingerprint, certificate, hello.rank) : null);
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
        begin: (prefix, length) => this.beginSegment(from, prefix, length),
        end: () => this.endSegment(from),
        closed: (error) => this.onLinkClosed(error),
      });
    } catch (err) {
      this.fail(err as GradsyncError);
      return;
    }
    const from: InboundLink = { link, fromRank: hello.rank, early: new EarlyFrames(), incoming: null };
    this.inbound.add(from);
    life.inbound.set(hello.rank, from);
    if (life.admit.every((r) => life.inbound.has(r))) life.admitted();
  }

  /** Every planned link is up: the dialed ones become the send links. */
  private linkUp(dialed: ReadonlyMap<number, WebSocket>): void {
    const life = this.life;
    if (life.state !== 'connecting' || !life.admit.every((r) => life.inbound.has(r))) {
      // Closed or failed while dialing: connect() still resolves (operations reject with the reason).
      for (const ws of dialed.values()) ws.terminate();
      if (life.state === 'closed') throw new GradsyncError('E_ALLREDUCE_CLOSED', 'ring all-reduce was closed while connecting');
      return;
    }
    const outbound = new Map<number, SegmentLink>();
    for (const [rank, ws] of dialed) {
      this.track(ws);
      const what = `ring link to rank ${rank}`;
      outbound.set(
        rank,
        this.adopt(ws, 'client', what, {
          begin: () => new ProtocolError(`${what} sent data on a send-only link`),
          end: () => {},
          closed: (error) => this.onLinkClosed(error),
        }),
      );
    }
    this.life = { state: 'linked', group: life.group, links: { inbound: life.inbound, outbound } };
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

  /** A segment's header has arrived on an admitted link: where its payload goes (see the file comment). */
  private beginSegment(from: InboundLink, prefix: Uint8Array, length: number): Uint8Array | ProtocolError {
    // Refusals go back through the link, which names it; onLinkClosed adds the operation.
    const where = `ring link from rank ${from.fromRank}`;
    const header = decodeFrameHeader(prefix);
    if (header instanceof ProtocolError) return new ProtocolError(`${where}: ${header.message}`);
    if (header.kind !== 'ring-segment') return new ProtocolError(`${where}: expected a ring segment, got a ${header.kind} frame`);
    const bytes = header.floatCount * this.elementBytes();
    if (bytes !== length - FRAME_HEADER_BYTES) {
      return new ProtocolError(`${where}: ring segment announces ${bytes} payload bytes but its message carries ${length - FRAME_HEADER_BYTES}`);
    }
    this.wire.received += length;
    const op = this.op;
    // Each link is in order: while the running operation expects more from this peer, this is it;
    // otherwise the peer is ahead, on an operation not started here.
    if (op && op.operation.expectedFrom(from.fromRank) !== null) {
      const err = this.checkExpected(op, from.fromRank, header);
      if (err) return new ProtocolError(`${where}: ${err.message} (do all ranks pass the same op id and length?)`);
      // A float32 segment lands where the operation says (the output, or its staging); others in the scratch.
      const place = op.wire === 'f32' ? op.operation.placeFor(from.fromRank) : null;
      from.incoming = { opId: op.id, placed: place !== null, floats: header.floatCount };
      if (place) return new Uint8Array(place.buffer, place.byteOffset, bytes);
      return new Uint8Array(this.adder.scratch.buffer, this.adder.scratch.byteOffset, bytes);
    }
    const early = this.earlyBytes();
    if (early + bytes > this.maxEarlyBytes) {
      return new ProtocolError(`${where} sent ${early + bytes} bytes ahead of any operation here`);
    }
    from.incoming = { early: true };
    return from.early.reserve(header, bytes);
  }

  /** The payload chosen in beginSegment is complete. */
  private endSegment(from: InboundLink): void {
    const incoming = from.incoming;
    from.incoming = null;
    if (incoming === null) return;
    const op = this.op;
    if ('early' in incoming) {
      from.early.commit();
      // The operation may have started while this segment was on its way in.
      if (op) {
        this.replayEarly(op, from);
        this.maybeFinish(op);
      }
      return;
    }
    if (!op || op.id !== incoming.opId) return; // failed while the segment came in
    const peer = from.fromRank;
    const sends = incoming.placed ? op.operation.acceptPlaced(peer) : op.operation.accept(peer, this.received(op, this.adder.scratch, incoming.floats));
    for (const t of sends) this.sendSegment(op, t);
    this.maybeFinish(op);
  }

  /** Applies a link's kept segments in order, as far as the running operation needs them. */
  private replayEarly(op: RunningOp, from: InboundLink): void {
    while (this.op === op && op.operation.expectedFrom(from.fromRank) !== null) {
      const frame = from.early.shift();
      if (frame === null) return;
      const err = this.checkExpected(op, from.fromRank, frame.header);
      if (err) {
        this.fail(
          new ProtocolError(
            `${this.opPrefix()}ring link from rank ${from.fromRank}: ${err.message} (do all ranks pass the same op id and length?); closed the link`,
          ),
        );
        return;
      }
      const sends = op.operation.accept(from.fromRank, this.received(op, frame.payload, frame.payload.byteLength / wireBytesPerElement(op.wire)));
      for (const t of sends) this.sendSegment(op, t);
    }
  }

  private earlyBytes(): number {
    let n = 0;
    for (const link of this.inbound) n += link.early.bytes;
    return n;
  }

  /** A received payload as the running operation reads it. */
  private received(op: RunningOp, bytes: ArrayBufferView, elements: number): Float32Array | Uint16Array {
    return op.wire === 'f32' ? new Float32Array(bytes.buffer, bytes.byteOffset, elements) : new Uint16Array(bytes.buffer, bytes.byteOffset, elements);
  }

  /** Bytes per element on this group's wire (f32 before a group is known). */
  private elementBytes(): 2 | 4 {
    return wireBytesPerElement(this.groupOrNull()?.wireDtype ?? 'f32');
  }

  private checkExpected(op: RunningOp, from: number, header: RingSegmentHeader): ProtocolError | null {
    const t = op.operation.expectedFrom(from);
    return validateRingSegment(header, t && { opId: op.id, phase: t.phase, step: t.step, chunk: t.chunk, segment: t.segment, floatCount: t.end - t.start });
  }

  private sendSegment(op: RunningOp, t: PeerTransfer): void {
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
    const link = op.outbound.get(t.peer);
    if (!link) {
      this.fail(new GradsyncError('E_ALLREDUCE_STATE', `${this.opPrefix()}no link to rank ${t.peer} for ${op.algorithm}`));
      return;
    }
    op.pendingSends++;
    link.send(header, payload, (err) => {
      op.pendingSends--;
      if (err) {
        if (this.op === op) this.fail(new GradsyncError('E_PEER_LINK_CLOSED', `${this.opPrefix()}sending to rank ${t.peer} failed: ${err.message}`));
        return;
      }
      this.maybeFinish(op);
    });
  }

  private maybeFinish(op: RunningOp): void {
    if (this.op === op && op.operation.done && op.pendingSends === 0) this.finishOp(null);
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
    for (const link of this.inbound) {
      link.early.clear();
      link.incoming = null;
    }
  }

  private groupOrNull(): RingGroup | null {
    return this.life.state === 'listening' ? null : this.life.group;
  }

  private opPrefix(): string {
    const rank = this.groupOrNull()?.rank;
    return this.op ? `ring all-reduce op ${this.op.id} on rank ${rank}: ` : `ring all-reduce on rank ${rank}: `;
  }
}
