import type http from 'node:http';
import { isDashboardBuilt, notBuiltMessage, resolveStaticFile, sendFile } from './static-files';

export function notFound(res: http.ServerResponse, pathname: string): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`not found: ${pathname}\n`);
}

export function methodNotAllowed(res: http.ServerResponse): true {
  res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' });
  res.end('method not allowed\n');
  return true;
}

export const isReadOnly = (req: http.IncomingMessage) => req.method === 'GET' || req.method === 'HEAD';

/** A JSON answer that is never cached (the data changes while a run goes on). */
export function sendJson(req: http.IncomingMessage, res: http.ServerResponse, value: unknown): true {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

/**
 * The built page and its assets: `/`, `/index.html`, `/assets/…` and any other file in `distDir`.
 * Returns false (touching nothing) for a path that is none of them.
 */
export function servePage(req: http.IncomingMessage, res: http.ServerResponse, distDir: string, pathname: string): boolean {
  const isPagePath = pathname === '/' || pathname === '/index.html' || pathname.startsWith('/assets/');
  if (!isDashboardBuilt(distDir)) {
    if (!isPagePath) return false;
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(notBuiltMessage(distDir));
    return true;
  }
  const file = resolveStaticFile(distDir, pathname);
  if (!file) {
    if (!isPagePath) return false;
    notFound(res, pathname);
    return true;
  }
  if (!isReadOnly(req)) return methodNotAllowed(res);
  sendFile(req, res, file);
  return true;
}

export function pathOf(req: http.IncomingMessage): string | null {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return null;
  }
}
