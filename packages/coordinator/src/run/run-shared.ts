/**
 * What the run coordinator and the parts it drives share: the outcome of a part the group may
 * break under, how long members may take to answer, and where the run stands.
 */
import type { PlateauState } from '@gradsync/train';
import type { RunPhase } from './run-phase';

/** How long a member may take to answer before it is dropped (generous: slow backends, first steps). */
export const DEADLINES = { control: 60_000, step: 10 * 60_000, evaluation: 30 * 60_000 };

/** What a part of the run ends with when the group may break under it. */
export type Outcome<T = undefined> = { ok: true; value: T } | { ok: false };
export const done = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const BROKE: Outcome<never> = { ok: false };

/** Where the run stands: one object, held by the coordinator and handed by reference to its parts. */
export interface RunCursor {
  phase: RunPhase;
  globalStep: number;
  plateau: PlateauState;
  /** Until the first step of a new group is done: a member may be new, its first step slow (tfjs warming up). */
  groupUntried: boolean;
}
