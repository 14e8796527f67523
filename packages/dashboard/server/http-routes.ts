import type http from 'node:http';
import type { JoinOffer } from '@gradsync/protocol';
import type { Duplex } from 'node:stream';
import { FeedSocket } from './feed-socket';
import type { MetricsFeed } from './metrics-feed';
import { isReadOnly, methodNotAllowed, notFound, pathOf, sendJson, servePage } from './http-replies';
import { type AccessOptions, guardRequest } from './request-guard';
import { DEFAULT_DASHBOARD_DIST } from './static-files';
import { checkViewer } from './viewer-auth';
import { FEED_PATH, JOIN_PATH, RECORDS_PATH, VIEW_PATH } from '../shared/routes';

export { FEED_PATH, JOIN_PATH, RECORDS_PATH, VIEW_PATH };

export interface AttachOptions extends AccessOptions {
  /** The built dashboard (default: packages/dashboard/dist next to this package). */
  distDir?: string;
  /**
   * WebSocket paths that other 'upgrade' listeners on the same server own (e.g. ['/worker']).
   * Given, the dashboard refuses upgrades on any other path but /feed, so a wrong path gets a
   * 404 instead of hanging.
   */
  otherUpgradePaths?: string[];
  /** --browser-workers: the worker endpoint a viewer's page may join through, and the run's token. */
  join?: { workerPath: string; token?: string };
}

/**
 * The dashboard's routes, usable inside another server's handlers: each `handle…` method
 * answers the paths it owns and returns true, and returns false (touching nothing) otherwise.
 * Owned paths: `/feed` (WebSocket), `GET /api/records`, `GET /api/view`, `/`, `/index.html`, `/assets/…` and any
 * other file in the built dashboard.
 */
export class DashboardRoutes {
  readonly distDir: string;
  private readonly feedSocket: FeedSocket;

  constructor(
    private readonly feed: MetricsFeed,
    private readonly options: AttachOptions = {},
  ) {
    this.distDir = options.distDir ?? DEFAULT_DASHBOARD_DIST;
    this.feedSocket = new FeedSocket(feed);
  }

  /** Live dashboard connections. */
  get clientCount(): number {
    return this.feedSocket.clientCount;
  }

  handleRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const pathname = pathOf(req);
    if (pathname === null) return false;
    if (guardRequest(req, res, this.options)) return true;
    if (pathname === RECORDS_PATH) {
      if (!isReadOnly(req)) return methodNotAllowed(res);
      return sendJson(req, res, this.feed.records);
    }
    if (pathname === VIEW_PATH) {
      if (!isReadOnly(req)) return methodNotAllowed(res);
      return sendJson(req, res, { view: 'live' });
    }
    if (pathname === JOIN_PATH) {
      if (!isReadOnly(req)) return methodNotAllowed(res);
      return sendJson(req, res, this.joinOffer());
    }
    if (pathname === FEED_PATH) {
      res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
      res.end(`${FEED_PATH} is a WebSocket endpoint\n`);
      return true;
    }
    return servePage(req, res, this.distDir, pathname);
  }

  private joinOffer(): JoinOffer {
    const join = this.options.join;
    if (!join) return { allowed: false, why: 'this coordinator does not take browser workers (start it with --browser-workers)' };
    return { allowed: true, workerPath: join.workerPath, ...(join.token === undefined ? {} : { token: join.token }) };
  }

  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (pathOf(req) !== FEED_PATH) return false;
    const verdict = this.options.viewer ? checkViewer(req.headers, this.options.viewer) : { ok: true as const };
    if (!verdict.ok) {
      this.options.onRefused?.(req.socket.remoteAddress ?? 'an unknown address', verdict.why);
      // The page words the advice (feed-client.ts afterFeedClose); the reason says only what was wrong.
      this.feedSocket.refuse(req, socket, head, verdict.why);
      return true;
    }
    this.feedSocket.handleUpgrade(req, socket, head);
    return true;
  }

  /** Disconnects every dashboard. */
  close(): void {
    this.feedSocket.close();
  }
}

export interface DashboardAttachment {
  routes: DashboardRoutes;
  /** Removes the listeners from the server and disconnects every dashboard. */
  detach(): void;
}

/**
 * Adds the dashboard to an http.Server through its 'request' and 'upgrade' events, so other
 * endpoints (another WebSocket path, say) can share the port. A request that no route owns is
 * answered 404 while the dashboard's listener is the server's only 'request' listener (create
 * the server without a handler); otherwise the server's own handler must answer it (calling
 * `routes.handleRequest` first). An upgrade on a path nobody owns is refused with 404 when the
 * dashboard is the only 'upgrade' listener, or when `otherUpgradePaths` names the other owners.
 */
export function attachDashboard(server: http.Server, feed: MetricsFeed, options: AttachOptions = {}): DashboardAttachment {
  const routes = new DashboardRoutes(feed, options);
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (routes.handleRequest(req, res)) return;
    if (server.listenerCount('request') === 1) notFound(res, pathOf(req) ?? req.url ?? '');
  };
  const others = options.otherUpgradePaths ? new Set(options.otherUpgradePaths) : null;
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (routes.handleUpgrade(req, socket, head)) return;
    const pathname = pathOf(req);
    const unowned = others ? pathname === null || !others.has(pathname) : server.listenerCount('upgrade') === 1;
    if (unowned) refuseUpgrade(socket, pathname ?? req.url ?? '');
  };
  server.on('request', onRequest);
  server.on('upgrade', onUpgrade);
  return {
    routes,
    detach() {
      server.off('request', onRequest);
      server.off('upgrade', onUpgrade);
      routes.close();
    },
  };
}

/** Answers a WebSocket upgrade on a path nobody serves with a plain 404 and closes the socket. */
function refuseUpgrade(socket: Duplex, pathname: string): void {
  const body = `no WebSocket endpoint at ${pathname}; the dashboard feed is at ${FEED_PATH}\n`;
  socket.end(
    `HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
