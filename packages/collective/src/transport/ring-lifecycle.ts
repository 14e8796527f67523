/**
 * The ring reducer's lifecycle as one value, and the checks that depend only on it: which group a
 * link may join, and whether a hello may become rank−1's link. No sockets are opened here.
 */
import { GradsyncError } from '@gradsync/core';
import { halvingDoublingPartners, halvingDoublingPossible, isWireDtype, MAX_WORLD, ringNext, ringPrev, WIRE_DTYPES, type WireDtype } from '../algorithms/index';
import type { EarlyFrames } from './early-frames';
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

/** What every rank of a group must set alike, checked on each link's hello. */
export interface LinkSettings {
  segmentBytes: number;
  /** Largest buffer reduced by halving-doubling (0: the ring only; Note [Algorithm by size]). */
  halvingDoublingMaxBytes: number;
}

/** An admitted link: segments from `fromRank` come in on it, in order. */
export interface InboundLink {
  readonly link: SegmentLink;
  readonly fromRank: number;
  /** Its segments for an operation not started here yet (the sender was ahead). */
  readonly early: EarlyFrames;
  /** Where the segment now coming in goes, between its header and its end. */
  incoming: { readonly opId: number; readonly placed: boolean; readonly floats: number } | { readonly early: true } | null;
}

/**
 * Which ranks this rank dials (its segments go out on those links) and which it admits (theirs
 * come in): rank+1 and rank−1 for the ring, and where halving-doubling can run (Note [Algorithm by
 * size]) every partner of it both ways. A rank that is both is linked once.
 */
export function linkPlan(rank: number, world: number, wire: WireDtype, halvingDoublingMaxBytes: number): { dial: number[]; admit: number[] } {
  if (world === 1) return { dial: [], admit: [] };
  const partners = halvingDoublingMaxBytes > 0 && halvingDoublingPossible(world, wire) ? halvingDoublingPartners(rank, world) : [];
  const unique = (xs: number[]) => [...new Set(xs)];
  return { dial: unique([ringNext(rank, world), ...partners]), admit: unique([ringPrev(rank, world), ...partners]) };
}

/**
 * Where the reducer stands, one value (as core's RingOperation keeps its own):
 * listening ─ connect() ─▶ connecting ─ every planned link up ─▶ linked; any failure ─▶ failed (final);
 * close() ─▶ closed from anywhere.
 */
export type Lifecycle =
  /** No group yet: hellos that arrive now are parked until connect() says who rank−1 is. */
  | { readonly state: 'listening' }
  /** Dialing the plan's ranks (linkPlan); each rank to admit is admitted when it says hello (into `inbound`); the last one resolves `admitted`. */
  | {
      readonly state: 'connecting';
      readonly group: RingGroup;
      readonly admit: readonly number[];
      readonly inbound: Map<number, InboundLink>;
      readonly admitted: () => void;
    }
  /** Operations may run. `links` is null in a group of one, which needs none. */
  | { readonly state: 'linked'; readonly group: RingGroup; readonly links: Links | null }
  | { readonly state: 'failed'; readonly group: RingGroup | null; readonly error: GradsyncError }
  | { readonly state: 'closed'; readonly group: RingGroup | null };

/** A linked group's links: admitted ones by sending rank, dialed ones by receiving rank. */
export interface Links {
  readonly inbound: ReadonlyMap<number, InboundLink>;
  readonly outbound: ReadonlyMap<number, SegmentLink>;
}

/** Why a hello cannot become one of this rank's admitted links now (null: admit it). */
export function refusalFor(life: Exclude<Lifecycle, { state: 'listening' }>, hello: PeerHello, settings: LinkSettings): string | null {
  if (life.state === 'closed' || life.state === 'failed') return 'ring all-reduce is closed';
  const { group } = life;
  const wireDtype = group.wireDtype ?? 'f32';
  // Run, token and settings first: a stray from another run is told that, not which ranks may link.
  const policy = { runId: group.runId, expectedRank: hello.rank, token: group.token, wireDtype, ...settings };
  const refused = refusalReason(hello, policy);
  if (refused !== null) return refused;
  const admit = life.state === 'connecting' ? life.admit : linkPlan(group.rank, group.world, wireDtype, settings.halvingDoublingMaxBytes).admit;
  if (!admit.includes(hello.rank)) return `rank ${hello.rank} may not link here: expected rank ${admit.join(' or ')}`;
  if (life.state === 'linked' || life.inbound.has(hello.rank)) return `rank ${group.rank} already has its link from rank ${hello.rank}`;
  return null;
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
