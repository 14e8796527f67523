/**
 * The phases of a worker's session, as one value (the way core's RingOperation keeps its state):
 *
 *   connecting ── welcome ──▶ receiving-data ── last chunk ──▶ ready ◀── abort / prepare-group ──┐
 *                                                               │                               │
 *                                                               └──────── group ──▶ in-group ───┘
 *   any phase ── done / link closed / failure ──▶ ended
 *
 * Each phase holds exactly what exists in it, so a message that needs the data set or a group
 * cannot find it missing: it finds the wrong phase, and the session fails with "out of order".
 */
import { GradsyncError } from '@gradsync/core';
import type { RunConfig, Replica } from '@gradsync/train';
import type { CifarSplit } from '@gradsync/data/browser';
import type { AllReducer, StarClient } from '@gradsync/collective/browser';
import type { DatasetReceiver } from './dataset-receiver';

/** What the welcome established; lives as long as the session. */
export interface RunState {
  readonly runId: string;
  readonly config: RunConfig;
  readonly replica: Replica;
  /** Last global step whose update the replica holds. */
  appliedStep: number;
}

export interface Splits {
  readonly train: CifarSplit;
  readonly validation: CifarSplit;
  readonly test: CifarSplit;
}

export interface GroupState {
  readonly id: number;
  readonly rank: number;
  readonly reducer: AllReducer;
  /** The reducer again when it is the star client: star sums are delivered to it. */
  readonly star: StarClient | null;
}

export interface SessionEnd {
  ok: boolean;
  reason: string;
  /** The coordinator vanished (not refused, not finished): worth reconnecting. */
  coordinatorLost: boolean;
}

export type SessionPhase =
  | { readonly name: 'connecting' }
  | { readonly name: 'receiving-data'; readonly run: RunState; readonly receiver: DatasetReceiver }
  /** The data set is here; no group to reduce with (none yet, between groups, or after an abort: `why`). */
  | { readonly name: 'ready'; readonly run: RunState; readonly splits: Splits; readonly why: string }
  | { readonly name: 'in-group'; readonly run: RunState; readonly splits: Splits; readonly group: GroupState }
  | { readonly name: 'ended'; readonly end: SessionEnd };

export type PhaseName = SessionPhase['name'];
export type PhaseOf<N extends PhaseName> = Extract<SessionPhase, { name: N }>;

/** The phases that hold the run (after the welcome, before the end). */
export const WITH_RUN = ['receiving-data', 'ready', 'in-group'] as const;
/** The phases that hold the data set. */
export const WITH_DATA = ['ready', 'in-group'] as const;

/** `phase` when it is one of `allowed`; else an E_PROTOCOL error naming what came out of order. */
export function expectPhase<N extends PhaseName>(phase: SessionPhase, allowed: readonly N[], what: string): PhaseOf<N> {
  if ((allowed as readonly PhaseName[]).includes(phase.name)) return phase as PhaseOf<N>;
  throw new GradsyncError('E_PROTOCOL', `out of order: ${what} while ${phase.name} (expected ${allowed.join(' or ')})`);
}

/** The group's reducer when there is one; else a stand-in that fails at once, saying why. */
export function reducerOf(phase: SessionPhase): AllReducer {
  if (phase.name === 'in-group') return phase.group.reducer;
  return noGroupReducer(phase.name === 'ready' ? phase.why : `the session is ${phase.name}`);
}

/** Stands in while there is no group (after an abort, between groups): any use fails at once. */
export function noGroupReducer(reason: string): AllReducer {
  return {
    algorithm: 'none',
    wire: { sent: 0, received: 0 },
    allReduceSum: async () => {
      throw new GradsyncError('E_ALLREDUCE', `no all-reduce group (${reason})`);
    },
    close: async () => {},
  };
}

/** Identity reduction for a group of one. */
export const soloReducer: AllReducer = { algorithm: 'solo', wire: { sent: 0, received: 0 }, allReduceSum: async (data) => data, close: async () => {} };
