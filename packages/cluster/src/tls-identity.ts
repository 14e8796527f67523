/** A TLS identity (certificate and key): read from --tls-cert/--tls-key, or made up in memory for one process. */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import selfsigned from 'selfsigned';
import { GradsyncError } from '@gradsync/core';
import { certFingerprint } from './fingerprint';

export interface TlsIdentity {
  /** PEM certificate (chain). */
  cert: string;
  /** PEM private key. */
  key: string;
  /** SHA-256 of the (first) certificate, lower-case hex. */
  fingerprint: string;
}

function readPem(file: string, flag: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GradsyncError(
      'E_TLS_FILE',
      `${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`,
    );
  }
  if (!text.includes('-----BEGIN'))
    throw new GradsyncError('E_TLS_FILE', `${flag} ${file} is not a PEM file (expected ${what} between -----BEGIN and -----END lines)`);
  return text;
}

/** Reads and checks a certificate and its key: both PEM, the key matching the certificate, the certificate not expired. */
export function loadTlsIdentity(certFile: string, keyFile: string, now = new Date()): TlsIdentity {
  const cert = readPem(certFile, '--tls-cert', 'a certificate');
  const key = readPem(keyFile, '--tls-key', 'a private key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new GradsyncError('E_TLS_FILE', `--tls-cert ${certFile} holds no readable certificate: ${(err as Error).message}`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new GradsyncError('E_TLS_FILE', `--tls-key ${keyFile} holds no readable private key (an encrypted key is not supported): ${(err as Error).message}`);
  }
  if (!x509.checkPrivateKey(privateKey))
    throw new GradsyncError('E_TLS_FILE', `--tls-key ${keyFile} is not the key of the certificate in --tls-cert ${certFile}`);
  if (new Date(x509.validTo) < now) throw new GradsyncError('E_TLS_FILE', `--tls-cert ${certFile} expired on ${x509.validTo}`);
  return { cert, key, fingerprint: certFingerprint(cert) };
}

/** Reads --ca: the certificate(s) of a private certificate authority. */
export function loadCaFile(file: string): string {
  const pem = readPem(file, '--ca', 'a CA certificate');
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw new GradsyncError('E_TLS_FILE', `--ca ${file} holds no readable certificate: ${(err as Error).message}`);
  }
  return pem;
}

/**
 * A self-signed certificate made in memory (EC P-256, valid a week) for a process that was given
 * none: its ring listener. Nobody trusts it by its issuer; peers pin its fingerprint, which the
 * coordinator hands out.
 */
export async function ephemeralIdentity(commonName: string): Promise<TlsIdentity> {
  const now = Date.now();
  const made = await selfsigned.generate([{ name: 'commonName', value: commonName.slice(0, 64) || 'gradsync' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 7 * 24 * 3600_000),
  });
  return { cert: made.cert, key: made.private, fingerprint: certFingerprint(made.cert) };
}
