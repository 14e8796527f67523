/**
 * A WebSocket endpoint for core's StarReductionHub: the coordinator's side of the star all-reduce,
 * as the benchmark and tests run it. Workers connect with `?rank=N`; each link carries float
 * frames; when an operation is complete the sum goes back to every rank as a star-result frame.
 *
 * The coordinator process owns its own sockets (it cannot import the worker package); this is the
 * reference for how it should feed the hub: one FrameReader per link, contributions checked
 * against the link's rank, results sent as a header message plus one shared payload view.
 */
import WebSocket, { WebSocketServer } from 'ws';
import { GradsyncError } from '@gradsync/core';
import { StarReductionHub } from '@gradsync/core/allreduce';
import { encodeFrameHeader, floatsFromBytes, FrameReader, ProtocolError, validateStarFrame, CLOSE } from '@gradsync/core/protocol';
import { closeLink } from './peer-socket';

export interface StarHubServerOptions {
  world: number;
  host?: string;
  port?: number;
  /** Largest contribution in bytes (default 1 GiB). */
  maxPayload?: number;
}

export class StarHubServer {
  readonly url: string;
  private readonly hub: StarReductionHub;
  private readonly links = new Map<number, WebSocket>();

  private constructor(
    private readonly server: WebSocketServer,
    url: string,
    world: number,
  ) {
    this.url = url;
    this.hub = new StarReductionHub({ world });
    server.on('connection', (ws, req) => this.onConnection(ws, req.url ?? '', world));
  }

  static listen(options: StarHubServerOptions): Promise<StarHubServer> {
    const host = options.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      const server = new WebSocketServer({ host, port: options.port ?? 0, perMessageDeflate: false, maxPayload: options.maxPayload ?? 2 ** 30 });
      server.once('error', (err) => reject(new GradsyncError('E_PEER_LISTEN', `star hub cannot listen on ${host}: ${err.message}`, { cause: err })));
      server.once('listening', () => {
        server.on('error', () => {});
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : options.port;
        resolve(new StarHubServer(server, `ws://${host}:${port}`, options.world));
      });
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.server.clients].map((ws) => closeLink(ws, CLOSE.normal, 'star hub closed')));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(ws: WebSocket, path: string, world: number): void {
    ws.binaryType = 'nodebuffer';
    ws.on('error', () => {});
    const rank = Number(new URL(path, 'ws://hub').searchParams.get('rank'));
    if (!Number.isInteger(rank) || rank < 0 || rank >= world || this.links.has(rank)) {
      void closeLink(ws, CLOSE.policy, `rank ${rank} is not a free rank of 0..${world - 1}`);
      return;
    }
    this.links.set(rank, ws);
    ws.once('close', () => this.links.delete(rank));
    const reader = new FrameReader(`star link from rank ${rank}`);
    ws.on('message', (data: Buffer) => {
      const out = reader.push(data);
      if (out === null) return;
      try {
        if (out instanceof ProtocolError) throw out;
        const header = validateStarFrame(out.header, { kind: 'star-contribution', opId: out.header.opId, floatCount: out.header.floatCount, rank });
        if (header instanceof ProtocolError) throw header;
        const sum = this.hub.contribute(header.opId, rank, floatsFromBytes(out.payload, 'star contribution'));
        if (sum) this.broadcast(header.opId, sum);
      } catch (err) {
        void closeLink(ws, CLOSE.protocolError, (err as Error).message);
      }
    });
  }

  private broadcast(opId: number, sum: Float32Array): void {
    const header = encodeFrameHeader({ kind: 'star-result', opId, rank: 0, floatCount: sum.length });
    const payload = Buffer.from(sum.buffer, sum.byteOffset, sum.byteLength);
    for (const ws of this.links.values()) {
      ws.send(header);
      if (sum.length > 0) ws.send(payload);
    }
  }
}
