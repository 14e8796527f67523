/**
 * TLS on ring links. Each worker listens with its own certificate (usually made up in memory at
 * start) and announces its ring URL with that certificate's SHA-256 in the fragment:
 * `wss://host:port/#sha256=HEX`. The coordinator passes every member's URL on in the group
 * message, so each rank pins exactly the certificate its neighbour announced: the dialer checks
 * the listener's, the listener checks the dialer's (mutual TLS). A certificate the coordinator
 * did not hand out is refused, whoever signed it. The fragment never goes on the wire.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { normalizeFingerprint, showFingerprint } from '@gradsync/cluster';

const FRAGMENT = /#sha256=([0-9a-fA-F]{64})$/;

/** The URL to dial (no fragment: ws refuses one) and the pinned fingerprint, if the URL carries one. */
export function splitPeerUrl(peerUrl: string): { dialUrl: string; fingerprint?: string } {
  const m = FRAGMENT.exec(peerUrl);
  if (!m) return { dialUrl: peerUrl.replace(/#.*$/, '') };
  return { dialUrl: peerUrl.slice(0, m.index), fingerprint: m[1].toLowerCase() };
}

export function peerUrlWithFingerprint(url: string, fingerprint: string): string {
  return `${url}/#sha256=${fingerprint}`;
}

/** SHA-256 of the client certificate on an accepted TLS connection; undefined on plain TCP or without one. */
export function clientFingerprint(req: IncomingMessage): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const fp = socket.getPeerCertificate().fingerprint256;
  return fp ? normalizeFingerprint(fp) : undefined;
}

/** Why the dialer's certificate is refused, or null when it is the one announced for `rank` (or the ring has no TLS). */
export function certificateRefusal(expected: string | undefined, presented: string | undefined, rank: number): string | null {
  if (expected === undefined) return null;
  if (presented === undefined) return `rank ${rank} must link with TLS and the certificate the coordinator handed out; it showed none`;
  // Short: the reason travels in a close frame (123 bytes at most).
  if (presented !== expected) return `rank ${rank} showed certificate ${showFingerprint(presented).slice(0, 11)}..., not the one the coordinator handed out`;
  return null;
}
