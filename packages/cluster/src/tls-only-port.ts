/**
 * A TLS port that answers a plain-text client with a clear error instead of a silent reset: the
 * first byte of a connection tells a TLS handshake (0x16) from anything else (an http:// browser,
 * a ws:// worker), which gets a one-line HTTP 400 saying to use https:// or wss://.
 */
import net from 'node:net';
import type tls from 'node:tls';

/** The first byte of every TLS connection: a handshake record. */
const TLS_HANDSHAKE = 0x16;
/** A client that sends nothing this long is dropped (it is neither TLS nor HTTP). */
const FIRST_BYTE_TIMEOUT_MS = 30_000;

export function plaintextRefusal(): string {
  const body = 'this port speaks TLS only: use https:// for the dashboard and wss:// for workers\n';
  return `HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * A plain TCP server to listen with in front of `tlsServer` (which must not listen itself): TLS
 * connections are handed to it, plain-text ones answered and closed, and told to `onPlaintext`.
 */
export function tlsOnlyPort(tlsServer: tls.Server, onPlaintext: (address: string) => void = () => {}): net.Server {
  return net.createServer((socket) => {
    socket.on('error', () => {});
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      if (first[0] === TLS_HANDSHAKE) {
        // TLSSocket takes bytes already read from the socket first.
        socket.unshift(first);
        tlsServer.emit('connection', socket);
        return;
      }
      onPlaintext(socket.remoteAddress ?? 'an unknown address');
      socket.end(plaintextRefusal());
    });
  });
}
