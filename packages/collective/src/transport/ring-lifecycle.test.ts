import { describe, expect, it } from 'vitest';
import { GradsyncError } from '@gradsync/core';
import { HALVING_DOUBLING_MAX_BYTES } from '../algorithms/index';
import { peerHello } from '../wire/peer';
import { EarlyFrames } from './early-frames';
import type { SegmentLink } from './segment-link';
import { type InboundLink, type Lifecycle, linkPlan, refusalFor, type RingGroup } from './ring-lifecycle';

const group: RingGroup = { rank: 1, world: 3, peers: ['ws://a:1', 'ws://b:2', 'ws://c:3'], runId: 'run' };
const SEGMENT = 65536;
const LIMIT = HALVING_DOUBLING_MAX_BYTES;
const SETTINGS = { segmentBytes: SEGMENT, halvingDoublingMaxBytes: LIMIT };
const helloFrom = (rank: number, runId = 'run') => peerHello({ runId, rank, segmentBytes: SEGMENT });
const socket = {} as SegmentLink;
type Joined = Exclude<Lifecycle, { state: 'listening' }>;
const inboundFrom = (rank: number): InboundLink => ({ link: socket, fromRank: rank, early: new EarlyFrames(), incoming: null });

describe('linkPlan (which ranks a rank dials and admits)', () => {
  it('the ring: rank+1 out, rank−1 in; nothing for a group of one', () => {
    expect(linkPlan(1, 3, 'f32', LIMIT)).toEqual({ dial: [2], admit: [0] });
    expect(linkPlan(0, 2, 'f32', LIMIT)).toEqual({ dial: [1], admit: [1] });
    expect(linkPlan(0, 1, 'f32', LIMIT)).toEqual({ dial: [], admit: [] });
  });

  it('a power-of-two world of 4 or more adds every halving-doubling partner, both ways, each once', () => {
    expect(linkPlan(0, 4, 'f32', LIMIT)).toEqual({ dial: [1, 2], admit: [3, 1, 2] });
    expect(linkPlan(5, 8, 'f32', LIMIT)).toEqual({ dial: [6, 4, 7, 1], admit: [4, 7, 1] });
    // Every dial has its admit on the other side.
    for (let r = 0; r < 8; r++) for (const to of linkPlan(r, 8, 'f32', LIMIT).dial) expect(linkPlan(to, 8, 'f32', LIMIT).admit).toContain(r);
  });

  it('not over a 16-bit wire, at a world that is not a power of two (halving-doubling cannot run there), or with it off', () => {
    expect(linkPlan(0, 4, 'bf16', LIMIT)).toEqual({ dial: [1], admit: [3] });
    expect(linkPlan(0, 4, 'f32', 0)).toEqual({ dial: [1], admit: [3] });
    expect(linkPlan(0, 6, 'f32', LIMIT)).toEqual({ dial: [1], admit: [5] });
  });
});

describe('refusalFor (which hello may become an admitted link)', () => {
  const connecting = (inbound = new Map<number, InboundLink>()): Joined => ({ state: 'connecting', group, admit: [0], inbound, admitted: () => {} });

  it('admits rank−1 of the right run while connecting, and nobody else', () => {
    expect(refusalFor(connecting(), helloFrom(0), SETTINGS)).toBeNull();
    expect(refusalFor(connecting(), helloFrom(2), SETTINGS)).toBe('rank 2 may not link here: expected rank 0');
    expect(refusalFor(connecting(), helloFrom(0, 'other'), SETTINGS)).toMatch(/run/);
  });

  it('admits each halving-doubling partner once', () => {
    const g: RingGroup = { rank: 0, world: 4, peers: ['ws://a:1', 'ws://b:2', 'ws://c:3', 'ws://d:4'], runId: 'run' };
    const inbound = new Map([[3, inboundFrom(3)]]);
    const life: Joined = { state: 'connecting', group: g, admit: [3, 1, 2], inbound, admitted: () => {} };
    expect(refusalFor(life, helloFrom(1), SETTINGS)).toBeNull();
    expect(refusalFor(life, helloFrom(2), SETTINGS)).toBeNull();
    expect(refusalFor(life, helloFrom(3), SETTINGS)).toBe('rank 0 already has its link from rank 3');
    // Ranks must agree on the limit, or they would choose different algorithms for one operation.
    expect(refusalFor(life, peerHello({ runId: 'run', rank: 1, segmentBytes: SEGMENT, halvingDoublingMaxBytes: 0 }), SETTINGS)).toMatch(
      /halving-doubling limit 0 bytes differs from this rank's 1048576/,
    );
  });

  it('refuses a second link from rank−1, and everything once failed or closed', () => {
    expect(refusalFor(connecting(new Map([[0, inboundFrom(0)]])), helloFrom(0), SETTINGS)).toBe('rank 1 already has its link from rank 0');
    const links = { inbound: new Map([[0, inboundFrom(0)]]), outbound: new Map([[2, socket]]) };
    expect(refusalFor({ state: 'linked', group, links }, helloFrom(0), SETTINGS)).toMatch(/already has its link/);
    expect(refusalFor({ state: 'linked', group, links }, helloFrom(2), SETTINGS)).toBe('rank 2 may not link here: expected rank 0');
    expect(refusalFor({ state: 'failed', group, error: new GradsyncError('E_X', 'x') }, helloFrom(0), SETTINGS)).toBe('ring all-reduce is closed');
    expect(refusalFor({ state: 'closed', group: null }, helloFrom(0), SETTINGS)).toBe('ring all-reduce is closed');
  });
});
