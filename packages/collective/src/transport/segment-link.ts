/**
 * One ring link after its handshake: the socket taken over from ws, float frames written with one
 * write each and read straight into buffers the reducer owns.
 *
 * Note [Link take-over]
 * ws opens the link and carries the peer-hello / peer-welcome exchange (its handshake, its TLS,
 * its checks). Then the link changes hands: ws's four socket listeners are removed and this class
 * reads and writes the socket itself, still in RFC 6455 frames (wire/ws-frames.ts), so a stock ws
 * peer could read every byte. Why: ws copies each message that spans several reads into a fresh
 * `Buffer.allocUnsafe`, and sends a header message and a payload message as two writes; in
 * training, one operation every ~50 ms, those fresh buffers land on freshly faulted pages.
 * Here a payload goes into its final place (the output for all-gather, a scratch the reducer
 * allocated once for reduce-scatter): on plain TCP the kernel reads it there (adoptReads), under
 * TLS it is copied there from each decrypted chunk. Header and payload leave in one writev. The hand-over
 * is safe because neither side sends anything between the welcome and the take-over: the dialer
 * waits for the welcome before its first frame, and the listener takes over as it sends it.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type WebSocket from 'ws';
import { GradsyncError } from '@gradsync/core';
import { closeReason, ProtocolError } from '@gradsync/protocol';
import { MAX_WS_HEADER_BYTES, OPCODE_BINARY, OPCODE_CLOSE, OPCODE_PONG, writeFrameHeader, WsFrameParser, type FrameSink } from '../wire/ws-frames';

const ZERO_MASK = new Uint8Array(4);

/** ws's listener names on a socket it owns (ws 8: lib/websocket.js). */
const WS_SOCKET_LISTENERS = ['socketOnData', 'socketOnEnd', 'socketOnClose', 'socketOnError'];

/** Detaches an open ws WebSocket from its socket (see Note [Link take-over]) and returns the socket. */
export function takeSocket(ws: WebSocket): Duplex {
  const socket = (ws as unknown as { _socket: Duplex | null })._socket;
  if (!socket || ws.readyState !== ws.OPEN) throw new GradsyncError('E_PEER_LINK_CLOSED', 'the link closed before its handshake finished');
  let removed = 0;
  for (const event of ['data', 'end', 'close', 'error']) {
    for (const listener of socket.listeners(event)) {
      if (WS_SOCKET_LISTENERS.includes((listener as { name?: string }).name ?? '')) {
        socket.removeListener(event, listener as (...args: unknown[]) => void);
        removed++;
      }
    }
  }
  // A ws whose internals moved would leave its listeners on the socket and read our frames too.
  if (removed !== 4) throw new GradsyncError('E_PEER_LINK', `could not take the link over from ws (found ${removed} of its 4 socket listeners)`);
  return socket;
}

export interface SegmentLinkEvents {
  /** Where the payload after a frame's `prefixBytes` header goes; see FrameSink.begin. */
  begin(prefix: Uint8Array, length: number): Uint8Array | ProtocolError;
  end(): void;
  /** The link is gone: closed by the peer (with its code and reason), cut, or failed here. */
  closed(error: GradsyncError): void;
}

export interface SegmentLinkOptions {
  /** The dialing side masks its frames, as RFC 6455 asks of clients. */
  role: 'client' | 'server';
  /** Random mask keys on every frame (a client option, to measure their cost). */
  maskFrames?: boolean;
  /** Bytes of each message that `begin` sees first. */
  prefixBytes: number;
  /** Largest message accepted. */
  maxPayload: number;
  /** Names the link in errors: "ring link from rank 3". */
  what: string;
}

/** Bytes of the read buffer for frame headers (and what follows them in the same read). */
const HEADER_READ_BYTES = 64 * 1024;

/**
 * Moves a plain TCP socket's handle into a new net.Socket whose reads land where `buffer()` says
 * (Node's `onread`, which it offers only at construction), so the payload of a segment is read
 * by the kernel straight into its destination: no buffer per read, no copy, no fresh pages. What
 * the old socket had already read comes back first. Null where that cannot be done (TLS, whose
 * reads are decrypted by its own handle): the link then reads 'data' events.
 */
function adoptReads(old: Duplex, buffer: () => Uint8Array, callback: (n: number, buf: Uint8Array) => void): { socket: net.Socket; buffered: Buffer[] } | null {
  if (!(old instanceof net.Socket) || old instanceof TLSSocket) return null;
  const internals = old as unknown as { _handle: { useUserBuffer?: unknown } | null };
  const handle = internals._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function') return null;
  const buffered: Buffer[] = [];
  for (let chunk: Buffer | null; (chunk = old.read() as Buffer | null) !== null;) buffered.push(chunk);
  internals._handle = null;
  const socket = new net.Socket({
    handle,
    onread: {
      buffer,
      callback: (n: number, buf: Uint8Array) => {
        callback(n, buf);
        return true;
      },
    },
  } as net.SocketConstructorOpts);
  // The old socket, handle-less now, still counts as its server's connection until destroyed.
  socket.once('close', () => old.destroy());
  return { socket, buffered };
}

export class SegmentLink {
  private ended = false;
  /** The socket that carries the link: the one ws opened, or its handle's new owner (adoptReads). */
  readonly socket: Duplex;

  constructor(
    socket: Duplex,
    private readonly options: SegmentLinkOptions,
    private readonly events: SegmentLinkEvents,
  ) {
    const sink: FrameSink = {
      begin: (prefix, length) => events.begin(prefix, length),
      end: () => events.end(),
      close: (code, reason) => this.peerClosed(code, reason),
      ping: (payload) => this.writeControl(OPCODE_PONG, payload),
    };
    const parser = new WsFrameParser(sink, options.prefixBytes, options.maxPayload, options.what);
    const headerReads = new Uint8Array(HEADER_READ_BYTES);
    const adopted = adoptReads(
      socket,
      () => parser.nextReadBuffer(headerReads),
      (n, buf) => {
        if (this.ended) return;
        const err = parser.received(buf, n);
        if (err) this.failWith(err);
      },
    );
    this.socket = adopted?.socket ?? socket;
    socket = this.socket;
    if (adopted) {
      for (const chunk of adopted.buffered) {
        const err = parser.push(chunk);
        if (err) this.failWith(err);
      }
    } else {
      socket.on('data', (chunk: Buffer) => {
        if (this.ended) return;
        const err = parser.push(chunk);
        if (err) this.failWith(err);
      });
    }
    socket.on('error', () => {}); // followed by 'close'
    socket.on('close', () => this.gone(new GradsyncError('E_PEER_LINK_CLOSED', `${options.what} closed (connection cut)`)));
    socket.on('end', () => this.gone(new GradsyncError('E_PEER_LINK_CLOSED', `${options.what} closed (the peer ended the connection)`)));
    socket.resume();
  }

  /**
   * Sends one binary message, `prefix` then `payload`, in one write. `done` runs once the bytes
   * are handed to the kernel (or with the error that stopped them); until then `payload` must not
   * change.
   */
  send(prefix: Uint8Array, payload: Uint8Array, done: (err?: Error | null) => void): void {
    const length = prefix.length + payload.length;
    const random = this.options.role === 'client' && this.options.maskFrames;
    const mask = this.options.role === 'client' ? (random ? randomMask() : ZERO_MASK) : null;
    const head = Buffer.allocUnsafe(MAX_WS_HEADER_BYTES + prefix.length);
    const n = writeFrameHeader(head, 0, OPCODE_BINARY, length, mask);
    head.set(prefix, n);
    const first = head.subarray(0, n + prefix.length);
    const socket = this.socket;
    if (random) {
      // Masked bytes must be a copy: the caller's array stays as it is.
      const body = Buffer.allocUnsafe(length);
      body.set(prefix, 0);
      body.set(payload, prefix.length);
      for (let i = 0; i < length; i++) body[i] ^= mask![i & 3];
      socket.write(Buffer.concat([head.subarray(0, n), body]), done);
      return;
    }
    socket.cork();
    socket.write(first);
    socket.write(payload, done);
    socket.uncork();
  }

  /** Sends a close frame with `code` and `reason`, then ends the connection; cut after `graceMs`. */
  close(code: number, reason: string, graceMs = 1000): Promise<void> {
    const socket = this.socket;
    this.ended = true;
    return new Promise((resolve) => {
      if (socket.destroyed) return resolve();
      const timer = setTimeout(() => socket.destroy(), graceMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      const text = Buffer.from(closeReason(reason), 'utf8');
      const payload = Buffer.allocUnsafe(2 + text.length);
      payload.writeUInt16BE(code, 0);
      text.copy(payload, 2);
      this.writeControl(OPCODE_CLOSE, payload);
      socket.end();
    });
  }

  /** Cuts the connection at once. */
  destroy(): void {
    this.ended = true;
    this.socket.destroy();
  }

  private writeControl(opcode: number, payload: Uint8Array): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    const mask = this.options.role === 'client' ? ZERO_MASK : null;
    const head = Buffer.allocUnsafe(MAX_WS_HEADER_BYTES + payload.length);
    const n = writeFrameHeader(head, 0, opcode, payload.length, mask);
    head.set(payload, n);
    this.socket.write(head.subarray(0, n + payload.length));
  }

  private peerClosed(code: number, reason: string): void {
    this.gone(new GradsyncError('E_PEER_LINK_CLOSED', `${this.options.what} closed (code ${code}${reason ? `: ${reason}` : ''})`));
    this.socket.end();
  }

  private failWith(err: ProtocolError): void {
    this.gone(err);
  }

  private gone(error: GradsyncError): void {
    if (this.ended) return;
    this.ended = true;
    this.events.closed(error);
  }
}

function randomMask(): Uint8Array {
  const m = new Uint8Array(4);
  crypto.getRandomValues(m);
  return m;
}
