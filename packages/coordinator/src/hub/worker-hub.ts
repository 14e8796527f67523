import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { CLOSE, closeReason, type CoordinatorMessage, encodeMessage, parseWorkerMessage, type WorkerHelloMsg, type WorkerMessage } from '@gradsync/protocol';

import { browserOriginRefusal } from './browser-origin';

export const WORKER_PATH = '/worker';

/** A connection that has not said a valid hello within this long is closed (1008). */
export const HELLO_TIMEOUT_MS = 20_000;
/** At most this many connections may be waiting for their hello; more are turned away (1013). */
export const MAX_PENDING_CONNECTIONS = 256;
/** Refusals logged one by one per window (in all, and of each kind); the rest are counted and summed up at its end. */
const REFUSALS_LOGGED_PER_WINDOW = 20;
const REFUSALS_LOGGED_PER_KIND = 3;
const REFUSAL_WINDOW_MS = 10_000;

/**
 * Text from the network made safe for one log line: control characters escaped (no forged lines),
 * at most `max` characters.
 */
export function printable(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return clean.length > max ? `${clean.slice(0, max)}… (${clean.length} characters)` : clean;
}

/** One connected worker process. */
export class WorkerConnection {
  rank = -1;
  hello: WorkerHelloMsg | null = null;
  /** Why this side closed the connection, once it has. */
  closedBecause: string | null = null;
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

  /**
   * Sends and resolves once ws has handed the frame to the socket (or the link is gone): awaiting
   * each keeps a bulk transfer from queueing gigabytes in memory ahead of the heartbeat pings.
   * Resolves false when the link is closed (nothing more is worth sending).
   */
  sendFlushed(message: CoordinatorMessage): Promise<boolean> {
    if (this.socket.readyState !== WebSocket.OPEN) return Promise.resolve(false);
    return new Promise((resolve) => this.socket.send(encodeMessage(message), (err) => resolve(!err)));
  }

  /** Closes with a code and reason (cut to what a close frame holds); never throws. */
  close(code: number, reason: string): void {
    this.closedBecause ??= `${reason} (${code})`;
    if (this.socket.readyState !== WebSocket.OPEN) {
      if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
      return;
    }
    try {
      this.socket.close(code, closeReason(reason));
    } catch {
      this.socket.terminate();
    }
    // A peer that does not answer the closing handshake is cut off.
    setTimeout(() => {
      if (this.socket.readyState !== WebSocket.CLOSED) this.socket.terminate();
    }, 2_000).unref();
  }

  get label(): string {
    return this.hello ? `rank ${this.rank} (${printable(this.hello.host, 64)} pid ${this.hello.pid})` : `connection ${this.id} from ${this.remote}`;
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

/** Counts refused connections and logs them without letting a flood of them flood the log. */
class RefusalLog {
  private windowStart = 0;
  private loggedInWindow = 0;
  private loggedOfKind = new Map<string, number>();
  private suppressed = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** Every refusal so far, by kind. */
  readonly totals = new Map<string, number>();

  constructor(private readonly log: WorkerHubEvents['log']) {}

  refused(kind: string, line: string): void {
    this.totals.set(kind, (this.totals.get(kind) ?? 0) + 1);
    const now = Date.now();
    if (now - this.windowStart >= REFUSAL_WINDOW_MS) {
      this.flush();
      this.windowStart = now;
      this.loggedInWindow = 0;
      this.loggedOfKind.clear();
    }
    const ofKind = this.loggedOfKind.get(kind) ?? 0;
    if (this.loggedInWindow < REFUSALS_LOGGED_PER_WINDOW && ofKind < REFUSALS_LOGGED_PER_KIND) {
      this.loggedInWindow++;
      this.loggedOfKind.set(kind, ofKind + 1);
      this.log('warn', line);
      return;
    }
    this.suppressed.set(kind, (this.suppressed.get(kind) ?? 0) + 1);
    this.timer ??= setTimeout(() => this.flush(), this.windowStart + REFUSAL_WINDOW_MS - now).unref();
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.suppressed.size === 0) return;
    const n = [...this.suppressed.values()].reduce((a, b) => a + b, 0);
    const kinds = [...this.suppressed.entries()].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${c} ${k}`);
    this.log('warn', `refused ${n} more worker connection(s) in the last ${REFUSAL_WINDOW_MS / 1000} s: ${kinds.join(', ')}`);
    this.suppressed.clear();
  }
}

/**
 * Accepts worker WebSockets on /worker of the coordinator's HTTP server. Every frame is validated;
 * a bad one closes that connection with a reason, the refusal is logged, and the run goes on.
 * Nothing a connection sends can throw out of this class.
 */
export class WorkerHub {
  private readonly wss: WebSocketServer;
  private nextId = 1;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly sockets = new Map<WebSocket, WorkerConnection>();
  private readonly lastPong = new WeakMap<WebSocket, number>();
  private pending = 0;
  private readonly refusals: RefusalLog;
  readonly connections = new Set<WorkerConnection>();

  constructor(
    server: Server,
    private readonly events: WorkerHubEvents,
    private readonly options: {
      token?: string;
      maxPayload: number;
      helloTimeoutMs?: number;
      heartbeatTimeoutMs?: number;
      /** Extra silence allowed while a worker may be inside one long synchronous step. */
      stepAllowanceMs?: () => number;
      /** --browser-workers: a page on the coordinator's own origin may connect (browser-origin.ts). */
      browserWorkers?: boolean;
    },
  ) {
    this.refusals = new RefusalLog(events.log);
    // Liveness: a ping every second; a worker whose pongs stop (hung, frozen, cut off) is declared
    // gone after heartbeatTimeoutMs, so nobody waits on it for ever.
    const timeoutMs = options.heartbeatTimeoutMs ?? 10_000;
    let lastTick = Date.now();
    this.heartbeat = setInterval(() => {
      const now = Date.now();
      // Fired late: this process was busy (a checkpoint, say) and pongs may be waiting unread in
      // the sockets. Count silence from now rather than blame the workers for our own stall.
      const stalled = now - lastTick > 3000;
      lastTick = now;
      const allowance = timeoutMs + (options.stepAllowanceMs?.() ?? 0);
      for (const [ws, conn] of this.sockets) {
        if (stalled) this.lastPong.set(ws, now);
        if (now - (this.lastPong.get(ws) ?? now) > allowance) {
          conn.closedBecause ??= `no heartbeat for ${(allowance / 1000).toFixed(0)} s`;
          ws.terminate();
        } else if (ws.readyState === WebSocket.OPEN) {
          ws.ping();
        }
      }
    }, 1000);
    this.heartbeat.unref();
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: options.maxPayload });
    this.wss.on('error', () => {});
    server.on('upgrade', (req: IncomingMessage, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== WORKER_PATH) return; // another endpoint (the dashboard feed) owns it
      socket.on('error', () => {}); // a reset during the handshake must not be an uncaught error
      const refusal = browserOriginRefusal(req.headers.origin, req.headers.host, Boolean(this.options.browserWorkers));
      if (refusal !== null) {
        this.refusals.refused('browser origin', `refused a worker connection from a web page (${req.socket.remoteAddress}): ${refusal}`);
        socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${refusal}\n`);
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
    });
  }

  /** Refusals so far by kind (protocol error, text frame, token, …). */
  get refusalCounts(): ReadonlyMap<string, number> {
    return this.refusals.totals;
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const conn = new WorkerConnection(this.nextId++, ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`);
    this.connections.add(conn);
    this.sockets.set(ws, conn);
    this.lastPong.set(ws, Date.now());
    ws.on('pong', () => this.lastPong.set(ws, Date.now()));
    let kind: string | null = null;
    const refuse = (k: string, code: number, reason: string) => {
      kind ??= k;
      conn.close(code, reason);
    };
    let pending = true;
    this.pending++;
    const joined = () => {
      if (pending) this.pending--;
      pending = false;
      clearTimeout(helloTimer);
    };
    const helloTimer = setTimeout(
      () => refuse('hello timeout', 1008, `no hello within ${(this.options.helloTimeoutMs ?? HELLO_TIMEOUT_MS) / 1000} s`),
      this.options.helloTimeoutMs ?? HELLO_TIMEOUT_MS,
    );
    helloTimer.unref();
    if (this.pending > MAX_PENDING_CONNECTIONS)
      refuse('too many pending', 1013, `more than ${MAX_PENDING_CONNECTIONS} connections are waiting to say hello; try again later`);

    ws.on('message', (data, isBinary) => {
      if (conn.closedBecause !== null) return; // already refused: the rest of its frames are ignored
      if (!isBinary) {
        refuse('text frame', 1003, 'text frames are not part of the protocol');
        return;
      }
      let message: WorkerMessage;
      try {
        message = parseWorkerMessage(data as Buffer);
      } catch (err) {
        // Normally a ProtocolError; anything else a hostile frame provoked is refused the same way.
        refuse('protocol error', 1002, err instanceof Error ? err.message : String(err));
        return;
      }
      if (conn.hello === null) {
        if (message.type !== 'hello') {
          refuse('message before hello', 1002, `sent '${message.type}' before hello`);
          return;
        }
        if (this.options.token !== undefined && (message.token === undefined || !sameSecret(message.token, this.options.token))) {
          refuse('wrong token', CLOSE.wrongToken, `refused: ${message.token === undefined ? 'missing' : 'wrong'} token (--token / GRADSYNC_TOKEN)`);
          return;
        }
        conn.hello = message;
        joined();
        this.deliver(conn, () => this.events.onHello(conn));
        if (conn.rank < 0 && conn.closedBecause !== null) kind ??= 'not admitted';
        return;
      }
      if (message.type === 'hello') {
        refuse('second hello', 1002, 'second hello');
        return;
      }
      this.deliver(conn, () => this.events.onMessage(conn, message));
    });
    ws.on('error', (err) => {
      const code = (err as Error & { code?: string }).code;
      if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') kind ??= 'frame too large';
      else kind ??= 'socket error';
      conn.closedBecause ??= printable(err.message);
    });
    ws.on('close', (code, reason) => {
      joined();
      this.connections.delete(conn);
      this.sockets.delete(ws);
      const why = conn.closedBecause ?? (reason.length ? `connection closed (${code} ${printable(reason.toString())})` : `connection closed (${code})`);
      if (conn.rank < 0) {
        // Never a member of the run: a stray, a prober, a worker turned away.
        this.refusals.refused(kind ?? 'closed before joining', `${conn.label}: ${kind ?? 'closed before joining'}: ${printable(why)}`);
      }
      this.deliver(conn, () => this.events.onGone(conn, printable(why, 300)));
    });
  }

  /** Calls the run's handler; a bug there ends that connection (and so the run, cleanly), not the process. */
  private deliver(conn: WorkerConnection, f: () => void): void {
    try {
      f();
    } catch (err) {
      this.events.log('error', `internal error handling ${conn.label}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      conn.close(1011, 'internal error in the coordinator');
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.connections) c.close(1001, 'coordinator shutting down');
    this.wss.close();
    this.refusals.flush();
  }
}
