/**
 * Flags (and GRADSYNC_* variables) for TLS and the dashboard's viewer token: the serving side
 * (coordinator, `pnpm dashboard`) and the worker side (how it checks the coordinator).
 */
import { type Command, Option } from 'commander';
import { GradsyncError } from '@gradsync/core';
import { stringFrom } from './cluster-options';
import { parseFingerprint } from './fingerprint';
import type { ServerCheck } from './tls-client';
import { loadCaFile, loadTlsIdentity, type TlsIdentity } from './tls-identity';

export const TLS_ENV = {
  cert: 'GRADSYNC_TLS_CERT',
  key: 'GRADSYNC_TLS_KEY',
  ca: 'GRADSYNC_CA',
  fingerprint: 'GRADSYNC_TLS_FINGERPRINT',
  viewerToken: 'GRADSYNC_VIEWER_TOKEN',
} as const;

/** --tls-cert, --tls-key and --viewer-token. */
export function addServerSecurityOptions(program: Command): Command {
  return program
    .addOption(new Option('--tls-cert <file>', 'PEM certificate: serve https:// and wss:// (with --tls-key)').env(TLS_ENV.cert))
    .addOption(new Option('--tls-key <file>', 'PEM private key of --tls-cert').env(TLS_ENV.key))
    .addOption(
      new Option(
        '--viewer-token <secret>',
        'secret the dashboard asks for (beyond loopback one is made up and printed in the dashboard URL when not given)',
      ).env(TLS_ENV.viewerToken),
    );
}

export interface ServerSecurity {
  tls?: TlsIdentity;
  viewerToken?: string;
}

export function serverSecurityFrom(program: Command): ServerSecurity {
  const cert = stringFrom(program, 'tlsCert');
  const key = stringFrom(program, 'tlsKey');
  if ((cert === undefined) !== (key === undefined)) {
    throw new GradsyncError(
      'E_FLAG',
      `${cert === undefined ? '--tls-key' : '--tls-cert'} needs ${cert === undefined ? '--tls-cert' : '--tls-key'} too: TLS takes a certificate and its key`,
    );
  }
  const raw = program.getOptionValue('viewerToken') as string | undefined;
  if (raw !== undefined && raw.trim() === '' && program.getOptionValueSource('viewerToken') === 'cli') {
    throw new GradsyncError('E_FLAG', '--viewer-token must not be empty (leave it out to have one made up)');
  }
  return { tls: cert && key ? loadTlsIdentity(cert, key) : undefined, viewerToken: stringFrom(program, 'viewerToken') };
}

/** --ca and --tls-fingerprint: how a worker checks a wss:// coordinator. */
export function addClientTlsOptions(program: Command): Command {
  return program
    .addOption(
      new Option('--ca <file>', "PEM certificate of the CA that signed the coordinator's certificate (default: the system's trusted CAs)").env(TLS_ENV.ca),
    )
    .addOption(
      new Option(
        '--tls-fingerprint <sha256>',
        "trust the coordinator's certificate only by this SHA-256 fingerprint (for a self-signed one; see README, Security)",
      ).env(TLS_ENV.fingerprint),
    );
}

export function serverCheckFrom(program: Command): ServerCheck | undefined {
  const ca = stringFrom(program, 'ca');
  const fp = stringFrom(program, 'tlsFingerprint');
  if (ca !== undefined && fp !== undefined)
    throw new GradsyncError('E_FLAG', '--ca and --tls-fingerprint contradict each other: trust a CA, or pin one certificate');
  if (ca === undefined && fp === undefined) return undefined;
  const source = program.getOptionValueSource('tlsFingerprint') === 'env' ? TLS_ENV.fingerprint : '--tls-fingerprint';
  return {
    what: 'the coordinator',
    ca: ca === undefined ? undefined : loadCaFile(ca),
    fingerprint: fp === undefined ? undefined : parseFingerprint(fp, source),
    hint: fp !== undefined ? 'check --tls-fingerprint' : undefined,
  };
}
