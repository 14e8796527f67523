/** Refuses TCP connections from outside the allow-list before a byte of HTTP or WebSocket is read. */
import type { Server, Socket } from 'node:net';
import type { AllowList } from './allow-list';

/**
 * Every connection `server` accepts from an address the list does not allow is destroyed at once
 * (the peer sees the connection reset) and reported to `onRefused` with that address.
 */
export function refuseOutsiders(server: Server, allow: AllowList, onRefused: (address: string) => void): void {
  // prependListener: ahead of the HTTP server's own 'connection' handler, which would parse the request.
  server.prependListener('connection', (socket: Socket) => {
    if (allow.allows(socket.remoteAddress)) return;
    socket.on('error', () => {});
    socket.destroy();
    onRefused(socket.remoteAddress ?? 'an unknown address');
  });
}
