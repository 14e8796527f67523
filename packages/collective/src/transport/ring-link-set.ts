/**
 * The ring reducer's links and their lifecycle: connect() dials the ranks this rank sends to and
 * admits the ranks it receives from (linkPlan), arrivals are parked until the group is known, links
 * are taken over from ws, and any failure or close() ends them all. Which hello may become a link
 * is decided in ring-lifecycle.ts; what travels on the links is routed by ring-frame-router.ts,
 * which this class extends.
 * (Apart from the data path, ring-frame-router.ts, and from the public class, ring-all-reducer.ts,
 * which extends this one with the options, listen() and allReduceSum().)
 */
import http from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { GradsyncError } from '@gradsync/core';
import type { TlsIdentity } from '@gradsync/cluster';
import { CLOSE, ProtocolError, encode } from '@gradsync/protocol';
import { FRAME_HEADER_BYTES, peerHello, peerWelcome, type PeerHello } from '../wire/peer';
import { EarlyFrames } from './early-frames';
import { SegmentLink, takeSocket } from './segment-link';
import { dialPeer, readHello } from './peer-handshake';
import { certificateRefusal, clientFingerprint, splitPeerUrl } from './ring-tls';
import { closeLink } from './peer-socket';
import { checkGroup, type InboundLink, type Lifecycle, linkPlan, refusalFor, type RingGroup } from './ring-lifecycle';
import { RingFrameRouter } from './ring-frame-router';

interface Arrival {
  ws: WebSocket;
  hello: PeerHello;
  /** SHA-256 of the dialer's TLS certificate, when it showed one. */
  certificate?: string;
}

export abstract class RingLinkSet extends RingFrameRouter {
  private readonly server: WebSocketServer;
  private readonly httpServer: http.Server;
  private readonly connectTimeoutMs: number;
  private readonly maskFrames: boolean;
  private readonly tls: TlsIdentity | undefined;
  protected life: Lifecycle = { state: 'listening' };
  private readonly parked: Arrival[] = [];
  private readonly sockets = new Set<WebSocket>();
  private lastRefusal: string | null = null;
  private readonly links = new Set<SegmentLink>();
  /** Every admitted link (their early frames are dropped on failure). */
  protected readonly inbound = new Set<InboundLink>();
  protected readonly halvingDoublingMaxBytes: number;

  protected constructor(
    httpServer: http.Server,
    server: WebSocketServer,
    options: {
      segmentBytes: number;
      connectTimeoutMs: number;
      maxEarlyBytes: number;
      maskFrames: boolean;
      tls?: TlsIdentity;
      halvingDoublingMaxBytes: number;
    },
  ) {
    super(options);
    this.httpServer = httpServer;
    this.server = server;
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.maskFrames = options.maskFrames;
    this.tls = options.tls;
    this.halvingDoublingMaxBytes = options.halvingDoublingMaxBytes;
    server.on('connection', (ws, req) => this.onInbound(ws, clientFingerprint(req)));
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

  /** Any failure is final: links close with the reason, the running operation rejects. */
  protected fail(err: GradsyncError): void {
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

  protected groupOrNull(): RingGroup | null {
    return this.life.state === 'listening' ? null : this.life.group;
  }
}
