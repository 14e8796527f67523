import type http from 'node:http';
import { SECURITY_HEADERS } from './security-headers';
import { checkViewer, exchangeUrlToken, unauthorizedText, viewerCookieHeader, type ViewerAuthOptions } from './viewer-auth';

export interface AccessOptions {
  /** Every route needs this viewer token (see viewer-auth.ts); absent: open to whoever reaches the port. */
  viewer?: ViewerAuthOptions;
  /** Told of each request refused for want of a viewer credential. */
  onRefused?: (address: string, why: string) => void;
}

/**
 * What every dashboard request passes first, whichever server answers it (the coordinator's, or
 * `pnpm dashboard`'s for one run or a folder of runs): the security headers, then the viewer
 * check. Returns true when it has answered (a refusal, or the ?token= exchange's redirect).
 */
export function guardRequest(req: http.IncomingMessage, res: http.ServerResponse, access: AccessOptions): boolean {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  const viewer = access.viewer;
  if (!viewer) return false;
  const exchange = exchangeUrlToken(req.url ?? '/', viewer);
  if (exchange.kind === 'accepted') {
    res.writeHead(303, { Location: exchange.location, 'Set-Cookie': viewerCookieHeader(viewer), 'Cache-Control': 'no-store' });
    res.end();
    return true;
  }
  const verdict = exchange.kind === 'wrong' ? { ok: false as const, why: 'wrong viewer token in ?token=' } : checkViewer(req.headers, viewer);
  if (verdict.ok) return false;
  access.onRefused?.(req.socket.remoteAddress ?? 'an unknown address', verdict.why);
  const body = unauthorizedText(verdict.why);
  res.writeHead(401, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'WWW-Authenticate': 'Bearer realm="gradsync dashboard"',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
