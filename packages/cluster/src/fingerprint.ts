/** SHA-256 certificate fingerprints: how a self-signed certificate is pinned instead of trusted blindly. */
import { X509Certificate } from 'node:crypto';
import { GradsyncError } from '@gradsync/core';

/** Lower-case hex without separators: the one form fingerprints are compared in. */
export function normalizeFingerprint(text: string): string {
  return text.replace(/[:\s]/g, '').toLowerCase();
}

/** A fingerprint given by a user (`AB:CD:…` as openssl prints it, or plain hex); anything else is refused naming `source`. */
export function parseFingerprint(text: string, source = '--tls-fingerprint'): string {
  const hex = normalizeFingerprint(text.replace(/^sha256[=:]/i, ''));
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new GradsyncError(
      'E_FLAG',
      `${source} must be a SHA-256 fingerprint (64 hex digits, colons allowed, as printed by \`openssl x509 -noout -fingerprint -sha256 -in cert.pem\`), got "${text}"`,
    );
  }
  return hex;
}

/** The SHA-256 fingerprint of a PEM or DER certificate, normalized. */
export function certFingerprint(cert: string | Buffer): string {
  return normalizeFingerprint(new X509Certificate(cert).fingerprint256);
}

/** `AB:CD:…` for messages, the form openssl and browsers show. */
export function showFingerprint(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(':');
}
