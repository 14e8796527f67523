import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { MetricRecord } from '@gradsync/metrics';
import { WebSocket, WebSocketServer } from 'ws';
import type { MetricsFeed } from './metrics-feed';
import { CLOSE_UNAUTHORIZED } from './viewer-auth';

/** A client this far behind is dropped; on reconnecting it gets the whole history again. */
export const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/**
 * The dashboard's WebSocket endpoint: on connection one `{type:'history', records}` frame with
 * everything so far, then one `{type:'record', record}` frame per published record, in order
 * (the snapshot and the subscription happen in the same tick, so nothing is lost or repeated).
 */
export class FeedSocket {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    // Compress only big frames (the history); live records stay cheap.
    perMessageDeflate: { threshold: 64 * 1024 },
  });
  private readonly clients = new Set<WebSocket>();
  private readonly unsubscribe: () => void;

  constructor(private readonly feed: MetricsFeed) {
    this.unsubscribe = feed.subscribe((record) => this.broadcast(record));
  }

  get clientCount(): number {
    return this.clients.size;
  }

  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  /** Completes the upgrade only to close it at once with 4001 and the reason (a page can read a close code, not an HTTP status). */
  refuse(req: http.IncomingMessage, socket: Duplex, head: Buffer, reason: string): void {
    socket.on('error', () => {});
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => ws.terminate());
      ws.close(CLOSE_UNAUTHORIZED, reason.slice(0, 120));
    });
  }

  /** Closes every client and stops listening to the feed. */
  close(): void {
    this.unsubscribe();
    for (const ws of this.clients) ws.terminate();
    this.clients.clear();
    this.wss.close();
  }

  private onConnection(ws: WebSocket): void {
    ws.on('error', () => ws.terminate());
    ws.on('close', () => this.clients.delete(ws));
    // The page only listens; anything it sends is ignored.
    ws.send(JSON.stringify({ type: 'history', records: this.feed.records }));
    this.clients.add(ws);
  }

  private broadcast(record: MetricRecord): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify({ type: 'record', record });
    for (const ws of this.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        ws.close(1013, 'too far behind; reconnect for the history');
        this.clients.delete(ws);
        continue;
      }
      ws.send(text);
    }
  }
}
