/**
 * How a client checks the TLS server it reaches: the system's trusted CAs (default), a private CA
 * (--ca), or one pinned certificate (--tls-fingerprint, or the fingerprint the coordinator handed
 * out for a ring peer). Also: which connection errors are final (no retry can help).
 */
import type net from 'node:net';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { GradsyncError } from '@gradsync/core';
import { normalizeFingerprint, showFingerprint } from './fingerprint';

export interface ServerCheck {
  /** PEM of the CA(s) that must have signed the server's certificate. */
  ca?: string;
  /** Lower-case hex SHA-256 the server's certificate must have (its issuer is not checked). */
  fingerprint?: string;
  /** Names the server in errors, e.g. "the coordinator" or "rank 2". */
  what: string;
  /** What to tell the user to fix, e.g. "check --tls-fingerprint". */
  hint?: string;
}

/** Raised when a server shows a certificate other than the pinned one. */
export const E_TLS_PIN = 'E_TLS_FINGERPRINT';

/** A `createConnection` for ws: opens TLS and refuses a server whose certificate is not the pinned one. */
export function pinnedTlsConnect(check: ServerCheck & { fingerprint: string }): (options: tls.ConnectionOptions) => Socket {
  return (options) => {
    // The chain is not checked (a pinned certificate is usually self-signed); the fingerprint is, before any message is sent.
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      const got = normalizeFingerprint(socket.getPeerCertificate().fingerprint256 ?? '');
      if (got !== check.fingerprint) {
        const err = new GradsyncError(
          E_TLS_PIN,
          `${check.what} presented a certificate with SHA-256 fingerprint ${got ? showFingerprint(got) : '(none)'}, not the expected ${showFingerprint(check.fingerprint)}${check.hint ? `; ${check.hint}` : ''}`,
        );
        socket.destroy(err);
      }
    });
    return socket;
  };
}

/** Options for `new WebSocket(url, …)` that check a wss:// server as `check` says. */
export function wsTlsOptions(check: ServerCheck | undefined): { ca?: string; createConnection?: typeof net.createConnection } {
  if (!check) return {};
  // ws calls createConnection with the TLS options of the URL; the type ws declares is net's.
  if (check.fingerprint) return { createConnection: pinnedTlsConnect({ ...check, fingerprint: check.fingerprint }) as unknown as typeof net.createConnection };
  return check.ca ? { ca: check.ca } : {};
}

const CERT_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  E_TLS_PIN,
]);

/**
 * Why a failed connection cannot succeed by retrying, or null when it might (the server is not up
 * yet). `url` is what was dialled.
 */
export function finalTlsFailure(err: unknown, url: string, what: string): string | null {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code ?? '';
  const message = e?.message ?? String(err);
  if (code === E_TLS_PIN) return message;
  if (CERT_ERRORS.has(code)) {
    return `${what} at ${url} has a certificate this side does not trust (${code}: ${message}); give its CA with --ca FILE, or pin it with --tls-fingerprint SHA256`;
  }
  if (/wrong version number|packet length too long|ERR_SSL_WRONG_VERSION_NUMBER|ERR_SSL_PACKET_LENGTH_TOO_LONG/i.test(`${code} ${message}`)) {
    return `${what} at ${url} does not speak TLS (it answered in plain text): use ws:// instead of wss://, or start it with --tls-cert and --tls-key`;
  }
  return null;
}
