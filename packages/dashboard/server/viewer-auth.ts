/**
 * Who may watch: a viewer presents the viewer token once (`/?token=…`, exchanged for an HttpOnly,
 * SameSite=Strict cookie and a redirect to the clean URL) or with every request
 * (`Authorization: Bearer …`, for scripts). The worker token is a different secret: it lets a
 * process join the run, never watch it.
 */
import { createHmac } from 'node:crypto';
import type http from 'node:http';
import { secretsEqual } from '@gradsync/cluster';

export const VIEWER_COOKIE = 'gradsync_viewer';
/** WebSocket close code for a feed connection without a viewer credential (HTTP 401's counterpart). */
export const CLOSE_UNAUTHORIZED = 4001;

export interface ViewerAuthOptions {
  /** The secret a viewer must present. */
  token: string;
  /** The page is served over https: the cookie gets `Secure`. */
  secure: boolean;
}

/** The cookie value: derived from the token (the token itself is never stored in the browser). */
export function viewerCookieValue(token: string): string {
  return createHmac('sha256', token).update('gradsync dashboard viewer').digest('base64url');
}

export function viewerCookieHeader(o: ViewerAuthOptions): string {
  return `${VIEWER_COOKIE}=${viewerCookieValue(o.token)}; Path=/; HttpOnly; SameSite=Strict${o.secure ? '; Secure' : ''}`;
}

/** name → value of a Cookie header (the first of each name). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

export type ViewerVerdict = { ok: true } | { ok: false; why: string };

/** Whether a request carries a viewer credential: the cookie, or `Authorization: Bearer TOKEN`. */
export function checkViewer(headers: http.IncomingHttpHeaders, o: ViewerAuthOptions): ViewerVerdict {
  const auth = headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (!m) return { ok: false, why: 'the Authorization header is not "Bearer TOKEN"' };
    return secretsEqual(o.token, m[1]) ? { ok: true } : { ok: false, why: 'wrong viewer token' };
  }
  const cookie = parseCookies(headers.cookie).get(VIEWER_COOKIE);
  if (cookie === undefined) return { ok: false, why: 'no viewer token' };
  return secretsEqual(viewerCookieValue(o.token), cookie) ? { ok: true } : { ok: false, why: 'a viewer cookie from another run or token' };
}

export type TokenExchange = { kind: 'none' } | { kind: 'wrong' } | { kind: 'accepted'; location: string };

/**
 * A `?token=` on the URL: accepted, it is traded for the cookie and the browser is sent to the
 * same URL without it (so the token leaves the address bar and the history).
 */
export function exchangeUrlToken(rawUrl: string, o: ViewerAuthOptions): TokenExchange {
  const url = new URL(rawUrl, 'http://localhost');
  const given = url.searchParams.get('token');
  if (given === null) return { kind: 'none' };
  if (!secretsEqual(o.token, given)) return { kind: 'wrong' };
  url.searchParams.delete('token');
  return { kind: 'accepted', location: `${url.pathname}${url.search}` };
}

/** The body of a 401: what is missing and where the credential comes from. */
export function unauthorizedText(why: string): string {
  return (
    `401 Unauthorized: ${why}. This dashboard is behind a viewer token: open the URL the coordinator printed ` +
    '(dashboard: http…/?token=…), or send "Authorization: Bearer TOKEN" (the value of --viewer-token / GRADSYNC_VIEWER_TOKEN). ' +
    'The worker token (--token) does not open the dashboard.\n'
  );
}
