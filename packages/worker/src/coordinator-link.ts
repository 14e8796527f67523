import WebSocket from 'ws';
import { GradsyncError } from '@gradsync/core';
import { finalTlsFailure, type ServerCheck, wsTlsOptions } from '@gradsync/cluster';
import { CLOSE, closeReason, type CoordinatorMessage, encodeMessage, isProtocolError, parseCoordinatorMessage } from '@gradsync/protocol';

import type { CoordinatorLink } from './session/session-ports';

export type { CoordinatorLink };

export interface ConnectOptions {
  url: string;
  /** Give up after this long without reaching the coordinator. */
  connectTimeoutMs: number;
  maxPayload: number;
  /** The coordinator pings every second; silence this long means it is gone (default 10 s). */
  heartbeatTimeoutMs?: number;
  /** How to check a wss:// coordinator (--ca / --tls-fingerprint; default: the system's CAs). */
  tls?: ServerCheck;
  log: (line: string) => void;
  onMessage: (message: CoordinatorMessage) => void;
}

/** A failure no retry can mend (a certificate not trusted, TLS against plain text, a 4xx answer). */
class FinalConnectError extends Error {}

/** One attempt; `timeoutMs` bounds the TCP connect and the HTTP upgrade (a host that accepts and stays silent). */
function openOnce(url: string, maxPayload: number, timeoutMs: number, tls: ServerCheck | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload,
      handshakeTimeout: Math.max(1, timeoutMs),
      ...(url.startsWith('wss:') ? wsTlsOptions(tls) : {}),
    });
    ws.binaryType = 'nodebuffer';
    const fail = (err: Error) => {
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      reject(err);
    };
    ws.once('open', () => {
      ws.removeListener('error', fail);
      resolve(ws);
    });
    ws.once('error', (err) => {
      const final = finalTlsFailure(err, url, 'the coordinator');
      fail(final ? new FinalConnectError(final) : err);
    });
    ws.once('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      if (status < 400 || status >= 500) return fail(new Error(`HTTP ${status}`));
      // A 4xx will not change on retry: say what the coordinator said (e.g. "this port speaks TLS only").
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c.slice(0, 500)));
      res.on('end', () =>
        fail(new FinalConnectError(`the coordinator at ${url} answered HTTP ${status}${body.trim() ? `: ${body.trim().slice(0, 300)}` : ''}`)),
      );
      res.on('error', () => fail(new FinalConnectError(`the coordinator at ${url} answered HTTP ${status}`)));
    });
  });
}

/**
 * Connects to the coordinator, retrying with exponential backoff (0.25 s doubling to 5 s) while it
 * is not up yet. Every frame is validated; a malformed one closes the link with the reason.
 */
export async function connectToCoordinator(options: ConnectOptions): Promise<CoordinatorLink> {
  const deadline = Date.now() + options.connectTimeoutMs;
  let delay = 250;
  let lastError: string;
  let ws: WebSocket | null = null;
  for (let attempt = 1; ws === null; attempt++) {
    try {
      ws = await openOnce(options.url, options.maxPayload, deadline - Date.now(), options.tls);
    } catch (err) {
      if (err instanceof FinalConnectError) throw new GradsyncError('E_CONNECT', err.message);
      lastError = (err as Error).message;
      if (Date.now() + delay > deadline) {
        throw new GradsyncError('E_CONNECT', `cannot reach the coordinator at ${options.url} (${lastError}); is it running, and is --coordinator right?`);
      }
      if (attempt === 1 || attempt % 5 === 0) options.log(`coordinator at ${options.url} not reachable yet (${lastError}); retrying`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
  const socket = ws;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  socket.on('error', (err) => options.log(`coordinator link error: ${err.message}`));
  let lastPing = Date.now();
  socket.on('ping', () => (lastPing = Date.now()));
  const timeoutMs = options.heartbeatTimeoutMs ?? 10_000;
  let lastTick = Date.now();
  const watchdog = setInterval(() => {
    const now = Date.now();
    // Fired late: this worker was busy computing and pings may be waiting unread; start over.
    if (now - lastTick > 3000) lastPing = now;
    lastTick = now;
    if (now - lastPing > timeoutMs) {
      options.log(`no heartbeat from the coordinator for ${timeoutMs / 1000} s: treating it as gone`);
      socket.terminate();
    }
  }, 1000);
  watchdog.unref();
  socket.on('close', () => clearInterval(watchdog));
  socket.on('message', (data, isBinary) => {
    // Any frame proves the coordinator alive: behind a large upload its pings arrive late.
    lastPing = Date.now();
    if (!isBinary) {
      socket.close(1003, 'text frames are not part of the protocol');
      return;
    }
    let message: CoordinatorMessage;
    try {
      message = parseCoordinatorMessage(data as Buffer);
    } catch (err) {
      // Normally a ProtocolError; whatever else a malformed frame provokes is handled the same way.
      const text = isProtocolError(err) || err instanceof Error ? err.message : String(err);
      options.log(`closing the coordinator link: ${text.slice(0, 500)}`);
      socket.close(CLOSE.protocolError, closeReason(text));
      return;
    }
    options.onMessage(message);
  });
  return {
    send: (message) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(encodeMessage(message));
    },
    close: (code = CLOSE.normal, reason = '') => socket.close(code, closeReason(reason)),
    closed,
  };
}
