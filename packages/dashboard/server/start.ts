import type http from 'node:http';
import type { TlsIdentity } from '@gradsync/cluster';
import { GradsyncError } from '@gradsync/core';
import { openHttpPort } from '@gradsync/cluster';
import type { MetricsFeed } from './metrics-feed';
import { notFound, pathOf } from './http-replies';
import type { AccessOptions } from './request-guard';
import type { RunsFolder } from './runs-folder';
import { RunsFolderRoutes } from './runs-routes';
import { attachDashboard } from './http-routes';

export interface DashboardServerOptions {
  /** Interface to listen on, e.g. 127.0.0.1 (local only) or 0.0.0.0 (every interface). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** One run, live: the records of this feed (`pnpm dashboard runs/<name>`). */
  feed?: MetricsFeed;
  /** Several finished or running runs side by side (`pnpm dashboard runs/`). Give this or `feed`. */
  runs?: RunsFolder;
  /** The built dashboard (default: packages/dashboard/dist). */
  distDir?: string;
  /** https:// and wss:// with this certificate. */
  tls?: TlsIdentity;
  /** Every route and the feed need this secret (see viewer-auth.ts). */
  viewerToken?: string;
  /** Told of each request refused for want of a viewer credential, or of TLS on a plain-text connection. */
  onRefused?: (address: string, why: string) => void;
}

export interface DashboardServer {
  /** http(s)://host:port/ of the page. */
  url: string;
  /** The URL to open: `url` with ?token= when behind a viewer token. */
  openUrl: string;
  port: number;
  server: http.Server;
  /** Disconnects dashboards and stops listening. */
  close(): Promise<void>;
}

/** A server of its own for the dashboard (standalone: `pnpm dashboard runs/<name>` or `pnpm dashboard runs/`). */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const httpPort = openHttpPort({ tls: options.tls, onPlaintext: (a) => options.onRefused?.(a, 'plain text on the TLS port') });
  const { server } = httpPort;
  const access: AccessOptions = {
    viewer: options.viewerToken === undefined ? undefined : { token: options.viewerToken, secure: Boolean(options.tls) },
    onRefused: options.onRefused,
  };
  const attachment = attachSource(server, options, access);
  let port: number;
  try {
    port = await httpPort.listen(options.port, options.host);
  } catch (err) {
    attachment.detach();
    throw listenError(err, options.host, options.port);
  }
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${httpPort.scheme}://${hostForUrl}:${port}/`;
  return {
    url,
    openUrl: options.viewerToken === undefined ? url : `${url}?token=${encodeURIComponent(options.viewerToken)}`,
    port,
    server,
    close: () => {
      attachment.detach();
      return httpPort.close();
    },
  };
}

function listenError(err: unknown, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new GradsyncError('E_PORT_IN_USE', `port ${port} on ${host} is already in use; choose another with --port`, { cause: err });
  if (code === 'EACCES') return new GradsyncError('E_PORT_DENIED', `not allowed to listen on ${host}:${port}; use a port above 1023`, { cause: err });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new GradsyncError('E_BAD_HOST', `cannot listen on ${host}: no such local address`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

function attachSource(server: http.Server, options: DashboardServerOptions, access: AccessOptions): { detach(): void } {
  if (options.feed) return attachDashboard(server, options.feed, { distDir: options.distDir, ...access });
  if (!options.runs) throw new Error('startDashboardServer needs a feed or a runs folder');
  const routes = new RunsFolderRoutes(options.runs, options.distDir, access);
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!routes.handleRequest(req, res)) notFound(res, pathOf(req) ?? req.url ?? '');
  };
  server.on('request', onRequest);
  return { detach: () => server.off('request', onRequest) };
}
