/**
 * The coordinator's (or `pnpm dashboard`'s) listening port: plain HTTP, or HTTPS with --tls-cert
 * and --tls-key, where a plain-text client gets a clear 400 instead of a reset (tls-only-port.ts).
 * WebSocket endpoints ride on the same server (ws:// or wss:// to match).
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { AllowList } from './allow-list';
import { refuseOutsiders } from './connection-guard';
import type { TlsIdentity } from './tls-identity';
import { tlsOnlyPort } from './tls-only-port';

export interface HttpPortOptions {
  tls?: TlsIdentity;
  /** --allow: connections from elsewhere are cut off at accept. */
  allow?: AllowList | null;
  onOutsider?: (address: string) => void;
  /** A plain-text client reached the TLS port. */
  onPlaintext?: (address: string) => void;
}

export interface HttpPort {
  /** Where routes and 'upgrade' listeners go. */
  server: http.Server;
  /** 'https' with TLS, else 'http' (the WebSocket scheme is 'wss' / 'ws' to match). */
  scheme: 'http' | 'https';
  /** Resolves with the port actually bound; rejects with the listen error as Node gives it. */
  listen(port: number, host: string): Promise<number>;
  /** Cuts every connection and stops listening. */
  close(): Promise<void>;
}

export function openHttpPort(o: HttpPortOptions = {}): HttpPort {
  // No handler of its own: the dashboard answers its routes and 404s the rest.
  const secure = o.tls ? https.createServer({ cert: o.tls.cert, key: o.tls.key }) : null;
  const server: http.Server = secure ?? http.createServer();
  const listener: net.Server = secure ? tlsOnlyPort(secure, o.onPlaintext) : server;
  if (o.allow) refuseOutsiders(listener, o.allow, (address) => o.onOutsider?.(address));
  return {
    server,
    scheme: o.tls ? 'https' : 'http',
    listen: (port, host) =>
      new Promise<number>((resolve, reject) => {
        listener.once('error', reject);
        try {
          listener.listen(port, host, () => {
            listener.off('error', reject);
            resolve((listener.address() as net.AddressInfo).port);
          });
        } catch (err) {
          // Node throws (rather than emitting 'error') for a port out of range or a malformed host.
          reject(err);
        }
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => listener.close(() => r()));
      if (listener !== server) server.close();
    },
  };
}
