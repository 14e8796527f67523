/**
 * The ring reducer's lifecycle as one value, and the checks that depend only on it: which group a
 * link may join, and whether a hello may become rank−1's link. No sockets are opened here.
 */
import { GradsyncError } from '@gradsync/core';
import { isWireDtype, MAX_WORLD, ringPrev, WIRE_DTYPES, type WireDtype } from '../algorithms/index';
import type { PeerHello } from '../wire/peer';
import type { SegmentLink } from './segment-link';
import { refusalReason } from './peer-handshake';

/** The group as the coordinator announces it. */
export interface RingGroup {
  rank: number;
  world: number;
  /** WebSocket URL of every rank, indexed by rank. */
  peers: readonly string[];
  runId: string;
  token?: string;
  /** What the group's floats travel as (default f32); every rank must say the same. */
  wireDtype?: WireDtype;
}

/** The admitted link from rank−1: segments come in on it. */
export interface InboundLink {
  readonly link: SegmentLink;
  readonly fromRank: number;
}

/**
 * Where the reducer stands, one value (as core's RingOperation keeps its own):
 * listening ─ connect() ─▶ connecting ─ both links up ─▶ linked; any failure ─▶ failed (final);
 * close() ─▶ closed from anywhere.
 */
export type Lifecycle =
  /** No group yet: hellos that arrive now are parked until connect() says who rank−1 is. */
  | { readonly state: 'listening' }
  /** Dialing rank+1; rank−1 is admitted when it says hello (`prev`), which resolves `admitted`. */
  | { readonly state: 'connecting'; readonly group: RingGroup; readonly prev: InboundLink | null; readonly admitted: (link: SegmentLink) => void }
  /** Operations may run. `links` is null in a group of one, which needs none. */
  | { readonly state: 'linked'; readonly group: RingGroup; readonly links: { readonly prev: InboundLink; readonly next: SegmentLink } | null }
  | { readonly state: 'failed'; readonly group: RingGroup | null; readonly error: GradsyncError }
  | { readonly state: 'closed'; readonly group: RingGroup | null };

/** Why a hello cannot be rank−1's link now (null: admit it). */
export function refusalFor(life: Exclude<Lifecycle, { state: 'listening' }>, hello: PeerHello, segmentBytes: number): string | null {
  if (life.state === 'closed' || life.state === 'failed') return 'ring all-reduce is closed';
  const { group } = life;
  const expectedRank = ringPrev(group.rank, group.world);
  if (life.state === 'linked' || life.prev !== null) return `rank ${group.rank} already has its link from rank ${expectedRank}`;
  return refusalReason(hello, { runId: group.runId, expectedRank, token: group.token, segmentBytes, wireDtype: group.wireDtype ?? 'f32' });
}

export function checkGroup(group: RingGroup): void {
  const bad = (what: string) => {
    throw new GradsyncError('E_ALLREDUCE_ARG', `ring group: ${what}`);
  };
  if (!Number.isInteger(group.world) || group.world < 1 || group.world > MAX_WORLD) bad(`world must be an integer in 1..${MAX_WORLD}, got ${group.world}`);
  if (!Number.isInteger(group.rank) || group.rank < 0 || group.rank >= group.world) bad(`rank must be in 0..${group.world - 1}, got ${group.rank}`);
  if (!Array.isArray(group.peers) || group.peers.length !== group.world) bad(`peers must list ${group.world} URLs, got ${group.peers?.length}`);
  for (const url of group.peers) if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) bad(`peer URL ${JSON.stringify(url)} is not a ws:// URL`);
  if (typeof group.runId !== 'string' || group.runId.length === 0) bad('runId must be a non-empty string');
  if (group.token !== undefined && typeof group.token !== 'string') bad('token must be a string');
  if (group.wireDtype !== undefined && !isWireDtype(group.wireDtype))
    bad(`wireDtype must be one of ${WIRE_DTYPES.join(', ')}, got ${JSON.stringify(group.wireDtype)}`);
}
