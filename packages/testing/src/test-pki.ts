/**
 * Certificates for tests: a private CA and a server certificate it signs for given addresses,
 * made with `selfsigned` (the same library workers use for their ring certificates).
 */
import selfsigned from 'selfsigned';
import { certFingerprint } from '@gradsync/cluster';
import type { TlsIdentity } from '@gradsync/cluster';

export interface TestPki {
  /** The CA's certificate (what --ca takes) and key. */
  ca: { cert: string; key: string };
  /** A certificate signed by the CA for `ips` and `dnsNames`. */
  server: TlsIdentity;
}

export async function makeTestPki(ips: string[], dnsNames: string[] = ['localhost']): Promise<TestPki> {
  const now = Date.now();
  const days = (n: number) => new Date(now + n * 24 * 3600_000);
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'gradsync test CA' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: days(-1),
    notAfterDate: days(2),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await selfsigned.generate([{ name: 'commonName', value: ips[0] ?? dnsNames[0] }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: days(-1),
    notAfterDate: days(2),
    ca: { cert: ca.cert, key: ca.private },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [...ips.map((ip) => ({ type: 7 as const, ip })), ...dnsNames.map((value) => ({ type: 2 as const, value }))] },
    ],
  });
  return { ca: { cert: ca.cert, key: ca.private }, server: { cert: server.cert, key: server.private, fingerprint: certFingerprint(server.cert) } };
}
