/**
 * A replica's full state (weights, BatchNorm statistics, Adam's moments and step) as the `state`
 * and `set-state` messages carry it: one encoding for the coordinator and the workers.
 */
import { floatsFromBytes, floatsToBytes } from './codec';

/**
 * A replica's state as arrays: weights, BatchNorm statistics, and the optimizer's moments (Adam's
 * m and v, or SGD's momentum in m) with its update count. Train's Replica reads and writes it.
 * On the wire the moments keep their first names (adamM, adamV, adamT): older checkpoints load.
 */
export interface ReplicaState {
  params: Float32Array;
  state: Float32Array;
  moments: { m: Float32Array; v: Float32Array; t: number };
}

export interface ReplicaStateOnWire {
  /** Last global step whose update these weights include (-1: none). */
  appliedStep: number;
  params: Uint8Array;
  state: Uint8Array;
  adamM: Uint8Array;
  adamV: Uint8Array;
  adamT: number;
}

export function replicaStateToWire(s: ReplicaState, appliedStep: number): ReplicaStateOnWire {
  return {
    appliedStep,
    params: floatsToBytes(s.params),
    state: floatsToBytes(s.state),
    adamM: floatsToBytes(s.moments.m),
    adamV: floatsToBytes(s.moments.v),
    adamT: s.moments.t,
  };
}

/**
 * The state a message holds. `copy`: arrays of their own, for a state kept beyond the message
 * (the coordinator's reference copy); else views into the message's bytes.
 */
export function replicaStateFromWire(m: ReplicaStateOnWire, options: { copy: boolean }): { state: ReplicaState; appliedStep: number } {
  const floats = (bytes: Uint8Array, what: string) => (options.copy ? floatsFromBytes(bytes, what).slice() : floatsFromBytes(bytes, what));
  return {
    appliedStep: m.appliedStep,
    state: {
      params: floats(m.params, 'params'),
      state: floats(m.state, 'state'),
      moments: { m: floats(m.adamM, 'adam m'), v: floats(m.adamV, 'adam v'), t: m.adamT },
    },
  };
}
