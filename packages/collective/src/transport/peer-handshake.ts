/**
 * Opening and admitting ring links (policy, no data path): the dialer sends `peer-hello` and waits
 * for `peer-welcome`; the listener reads the hello and decides whether this is the neighbour it
 * expects, for this run, with this run's token and segment size.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import WebSocket from 'ws';
import { GradsyncError } from '@gradsync/core';
import { finalTlsFailure, type TlsIdentity, wsTlsOptions } from '@gradsync/cluster';
import { decode, encode, ProtocolError, CLOSE } from '@gradsync/protocol';
import { HALVING_DOUBLING_MAX_BYTES } from '../algorithms/algorithm-choice';
import type { WireDtype } from '../algorithms/wire-dtype';
import { validatePeerHello, validatePeerWelcome, type PeerHello } from '../wire/peer';
import { closeLink, zeroMask } from './peer-socket';

/**
 * Compares the run's token with the one a peer presented, in time independent of where they
 * differ (both are hashed first, so lengths do not leak either). No token on both sides matches.
 */
export function tokensMatch(expected: string | undefined, presented: string | undefined): boolean {
  if (expected === undefined || presented === undefined) return expected === presented;
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(presented, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export interface AdmissionPolicy {
  runId: string;
  /** The rank allowed to dial in (this rank − 1). */
  expectedRank: number;
  token?: string;
  segmentBytes: number;
  wireDtype: WireDtype;
  halvingDoublingMaxBytes: number;
}

/** Why a hello is refused, or null to admit it. The reason goes back to the dialer. */
export function refusalReason(hello: PeerHello, policy: AdmissionPolicy): string | null {
  if (hello.runId !== policy.runId) return `wrong run id ${JSON.stringify(hello.runId)}`;
  if (!tokensMatch(policy.token, hello.token)) return 'wrong run token';
  if (hello.rank !== policy.expectedRank) return `rank ${hello.rank} may not link here: expected rank ${policy.expectedRank}`;
  if (hello.segmentBytes !== policy.segmentBytes) {
    return `segment size ${hello.segmentBytes} bytes differs from this rank's ${policy.segmentBytes}`;
  }
  const wire = hello.wireDtype ?? 'f32';
  if (wire !== policy.wireDtype) return `wire dtype ${wire} differs from this rank's ${policy.wireDtype}`;
  const limit = hello.halvingDoublingMaxBytes ?? HALVING_DOUBLING_MAX_BYTES;
  if (limit !== policy.halvingDoublingMaxBytes) {
    return `halving-doubling limit ${limit} bytes differs from this rank's ${policy.halvingDoublingMaxBytes} (Note [Algorithm by size]: every rank must choose alike)`;
  }
  return null;
}

/** Waits for the first message of an accepted socket and checks it is a well-formed hello. */
export function readHello(ws: WebSocket, timeoutMs: number): Promise<PeerHello> {
  return firstMessage(ws, timeoutMs, 'peer-hello').then((bytes) => {
    const hello = validatePeerHello(decode(bytes));
    if (hello instanceof ProtocolError) throw hello;
    return hello;
  });
}

/** Resolves with a socket's first binary message; rejects on close, error, text or timeout. */
function firstMessage(ws: WebSocket, timeoutMs: number, what: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, bytes?: Uint8Array) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      if (err) reject(err);
      else resolve(bytes!);
    };
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (!isBinary) done(new ProtocolError(`expected a binary ${what}, got a text message`));
      else done(null, data);
    };
    const onClose = (code: number, reason: Buffer) => {
      const text = reason.toString('utf8');
      done(new GradsyncError('E_PEER_REFUSED', `link closed before ${what} (code ${code}${text ? `: ${text}` : ''})`));
    };
    const timer = setTimeout(() => done(new GradsyncError('E_PEER_CONNECT_TIMEOUT', `no ${what} within ${timeoutMs} ms`)), timeoutMs);
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}

export interface DialOptions {
  /** Give up this many ms from now. */
  timeoutMs: number;
  maxPayload: number;
  /** Mask frames with random keys as RFC 6455 asks of clients (default false: see peer-socket.ts). */
  maskFrames?: boolean;
  /** wss:// peer: pin its certificate to this fingerprint and show `identity` as ours. */
  tls?: { fingerprint: string; identity?: TlsIdentity };
}

/**
 * Dials `url`, says hello, and resolves with the open socket once the listener welcomes us as
 * `expect.rank` of `expect.runId`. A refused connection is retried until the deadline (the peer
 * may still be starting); a refusal by the peer is final.
 */
export async function dialPeer(url: string, hello: PeerHello, expect: { runId: string; rank: number }, options: DialOptions): Promise<WebSocket> {
  const deadline = Date.now() + options.timeoutMs;
  let delay = 25;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new GradsyncError('E_PEER_CONNECT_TIMEOUT', `could not reach rank ${expect.rank} at ${url} within ${options.timeoutMs} ms`);
    let ws: WebSocket;
    try {
      ws = await open(url, options.maxPayload, left, options.maskFrames ?? false, options.tls);
    } catch (err) {
      const final = finalTlsFailure(err, url, `rank ${expect.rank}`);
      if (final) throw new GradsyncError('E_PEER_TLS', final, { cause: err });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ECONNREFUSED' || code === 'ECONNRESET') {
        await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadline - Date.now()))));
        delay = Math.min(500, delay * 2);
        continue;
      }
      throw new GradsyncError('E_PEER_CONNECT', `could not reach rank ${expect.rank} at ${url}: ${(err as Error).message}`, { cause: err });
    }
    try {
      ws.send(encode(hello));
      const welcome = validatePeerWelcome(decode(await firstMessage(ws, Math.max(1, deadline - Date.now()), 'peer-welcome')), expect);
      if (welcome instanceof ProtocolError) {
        await closeLink(ws, CLOSE.protocolError, welcome.message);
        throw welcome;
      }
      return ws;
    } catch (err) {
      ws.terminate();
      if (err instanceof GradsyncError && err.code === 'E_PEER_REFUSED') {
        throw new GradsyncError('E_PEER_REFUSED', `rank ${expect.rank} at ${url} refused the link: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
}

function open(url: string, maxPayload: number, timeoutMs: number, maskFrames: boolean, tls: DialOptions['tls']): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls
      ? {
          ...wsTlsOptions({ fingerprint: tls.fingerprint, what: 'a ring peer', hint: 'its certificate is not the one the coordinator handed out' }),
          cert: tls.identity?.cert,
          key: tls.identity?.key,
        }
      : {};
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload,
      generateMask: maskFrames ? undefined : zeroMask,
      handshakeTimeout: timeoutMs,
      ...secure,
    });
    ws.binaryType = 'nodebuffer';
    const onError = (err: Error) => {
      ws.off('open', onOpen);
      ws.on('error', () => {});
      ws.terminate();
      reject(err);
    };
    const onOpen = () => {
      ws.off('error', onError);
      // Socket errors are followed by 'close', which is what the owner of the link watches.
      ws.on('error', () => {});
      resolve(ws);
    };
    ws.once('error', onError);
    ws.once('open', onOpen);
  });
}
