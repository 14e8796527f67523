import { describe, expect, it } from 'vitest';
import { GradsyncError } from '@gradsync/core';
import { peerHello } from '../wire/peer';
import type { SegmentLink } from './segment-link';
import { type Lifecycle, refusalFor, type RingGroup } from './ring-lifecycle';

const group: RingGroup = { rank: 1, world: 3, peers: ['ws://a:1', 'ws://b:2', 'ws://c:3'], runId: 'run' };
const SEGMENT = 65536;
const helloFrom = (rank: number, runId = 'run') => peerHello({ runId, rank, segmentBytes: SEGMENT });
const socket = {} as SegmentLink;
const inbound = { link: socket, fromRank: 0 };

describe('refusalFor (which hello may become rank−1’s link)', () => {
  const connecting: Lifecycle = { state: 'connecting', group, prev: null, admitted: () => {} };

  it('admits rank−1 of the right run while connecting, and nobody else', () => {
    expect(refusalFor(connecting, helloFrom(0), SEGMENT)).toBeNull();
    expect(refusalFor(connecting, helloFrom(2), SEGMENT)).toMatch(/rank/);
    expect(refusalFor(connecting, helloFrom(0, 'other'), SEGMENT)).toMatch(/run/);
  });

  it('refuses a second link from rank−1, and everything once failed or closed', () => {
    expect(refusalFor({ ...connecting, prev: inbound }, helloFrom(0), SEGMENT)).toBe('rank 1 already has its link from rank 0');
    expect(refusalFor({ state: 'linked', group, links: { prev: inbound, next: socket } }, helloFrom(0), SEGMENT)).toMatch(/already has its link/);
    expect(refusalFor({ state: 'failed', group, error: new GradsyncError('E_X', 'x') }, helloFrom(0), SEGMENT)).toBe('ring all-reduce is closed');
    expect(refusalFor({ state: 'closed', group: null }, helloFrom(0), SEGMENT)).toBe('ring all-reduce is closed');
  });
});
