import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { type CoordinatorMessage, encodeMessage, isProtocolError, parseWorkerMessage, type WorkerHelloMsg, type WorkerMessage } from '@gradsync/core/protocol';

export const WORKER_PATH = '/worker';

/** One connected worker process. */
export class WorkerConnection {
  rank = -1;
  hello: WorkerHelloMsg | null = null;
  constructor(
    readonly id: number,
    private readonly socket: WebSocket,
    readonly remote: string,
  ) {}

  send(message: CoordinatorMessage): void {
    this.sendFrame(encodeMessage(message));
  }

  /** For a frame encoded once and sent to many workers. */
  sendFrame(frame: Uint8Array): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(frame);
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason.slice(0, 120));
  }

  get label(): string {
    return this.hello ? `rank ${this.rank} (${this.hello.host} pid ${this.hello.pid})` : `connection ${this.id} from ${this.remote}`;
  }
}

export interface WorkerHubEvents {
  /** A hello passed validation and the token check. */
  onHello(conn: WorkerConnection): void;
  onMessage(conn: WorkerConnection, message: WorkerMessage): void;
  onGone(conn: WorkerConnection, reason: string): void;
  log(level: 'info' | 'warn' | 'error', line: string): void;
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Accepts worker WebSockets on /worker of the coordinator's HTTP server. Every frame is validated;
 * a bad one closes that connection with a reason and the run goes on.
 */
export class WorkerHub {
  private readonly wss: WebSocketServer;
  private nextId = 1;
  readonly connections = new Set<WorkerConnection>();

  constructor(
    server: Server,
    private readonly events: WorkerHubEvents,
    private readonly options: { token?: string; maxPayload: number },
  ) {
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: options.maxPayload });
    server.on('upgrade', (req: IncomingMessage, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== WORKER_PATH) return; // another endpoint (the dashboard feed) owns it
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
    });
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const conn = new WorkerConnection(this.nextId++, ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`);
    this.connections.add(conn);
    let goneReason = 'connection closed';
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        goneReason = 'sent a text frame';
        conn.close(1003, 'text frames are not part of the protocol');
        return;
      }
      let message: WorkerMessage;
      try {
        message = parseWorkerMessage(data as Buffer);
      } catch (err) {
        if (!isProtocolError(err)) throw err;
        goneReason = `protocol error: ${err.message}`;
        this.events.log('warn', `${conn.label}: ${err.message}; closing that connection`);
        conn.close(1002, err.message);
        return;
      }
      if (conn.hello === null) {
        if (message.type !== 'hello') {
          goneReason = `sent '${message.type}' before hello`;
          conn.close(1002, goneReason);
          return;
        }
        if (this.options.token !== undefined && (message.token === undefined || !sameSecret(message.token, this.options.token))) {
          goneReason = 'wrong or missing token';
          this.events.log('warn', `${conn.label}: refused, ${goneReason}`);
          conn.close(4001, 'refused: wrong or missing token (--token / GRADSYNC_TOKEN)');
          return;
        }
        conn.hello = message;
        this.events.onHello(conn);
        return;
      }
      if (message.type === 'hello') {
        conn.close(1002, 'second hello');
        return;
      }
      this.events.onMessage(conn, message);
    });
    ws.on('error', (err) => {
      goneReason = `socket error: ${err.message}`;
    });
    ws.on('close', (code, reason) => {
      this.connections.delete(conn);
      const why = reason.length ? `${goneReason} (${code} ${reason.toString()})` : `${goneReason} (${code})`;
      this.events.onGone(conn, why);
    });
  }

  close(): void {
    for (const c of this.connections) c.close(1001, 'coordinator shutting down');
    this.wss.close();
  }
}
