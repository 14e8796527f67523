/**
 * All-reduce over WebSocket links between the ranks (the transport; the algorithms are pure state
 * machines in algorithms/: the ring's RingOperation and HalvingDoublingOperation, chosen per
 * operation by size and world, Note [Algorithm by size]).
 * (One class in three files, each layer extending the one before: ring-frame-router.ts routes
 * each operation's frames, ring-link-set.ts holds the links and their lifecycle, and this file the
 * public class: its options, listen() and allReduceSum(). What is pure lives in ring-lifecycle.ts
 * and algorithms/.)
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
import { WebSocketServer } from 'ws';
import { GradsyncError } from '@gradsync/core';
import { type AllowList, refuseOutsiders, type TlsIdentity } from '@gradsync/cluster';
import {
  type AllReduceAlgorithm,
  chooseAlgorithm,
  HALVING_DOUBLING_MAX_BYTES,
  HalvingDoublingOperation,
  halvingDoublingScratchLength,
  type PeerOperation,
  RingOperation,
  RingPeerOperation,
  ringNext,
  ringPrev,
  segmentElementsForBytes,
} from '../algorithms/index';
import { MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES } from '../wire/peer';
import { badOperationArgs, type AllReducer } from './all-reducer';
import { peerUrlWithFingerprint } from './ring-tls';
import type { RingGroup } from './ring-lifecycle';
import type { RunningOp } from './ring-frame-router';
import { RingLinkSet } from './ring-link-set';

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

export class RingAllReducer extends RingLinkSet implements AllReducer {
  readonly algorithm = 'ring' as const;
  /** Where rank−1 should dial this rank. */
  readonly url: string;

  private readonly timeoutMs: number;
  /** Halving-doubling's reduce-scatter staging: grown to the largest operation, then reused. */
  private staging = new Float32Array(0);
  /** Operations run so far by each algorithm (for tests and the bench). */
  readonly operationsBy: Record<AllReduceAlgorithm, number> = { ring: 0, 'halving-doubling': 0 };

  private constructor(httpServer: http.Server, server: WebSocketServer, url: string, options: Settings) {
    super(httpServer, server, options);
    this.url = url;
    this.timeoutMs = options.timeoutMs;
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
}
