import { CLOSE, type WorkerMessage } from '@gradsync/protocol';
import type { Member } from './member';

export type WorkerMessageOf<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

/**
 * What a wait for answers ends with: every member's answer, or the group broke first (a member
 * left, a reduction failed) and the answers that had arrived by then.
 */
export type Gathered<M> = { ok: true; answers: Map<Member, M> } | { ok: false; reason: string; partial: Map<Member, WorkerMessage> };

interface Waiting {
  types: readonly WorkerMessage['type'][];
  from: Set<Member>;
  key: (m: WorkerMessage) => boolean;
  got: Map<Member, WorkerMessage>;
  settle: (result: Gathered<WorkerMessage> | Error) => void;
}

/** A member may run this many answers ahead of the coordinator's waits before it counts as rogue. */
const MAX_UNCLAIMED_PER_MEMBER = 16;

/**
 * Matches the members' answers to the coordinator's requests. An answer that arrives before its
 * wait begins (a fast worker) is kept until it is claimed; a duplicate, or a flood of unclaimed
 * answers, closes that member's link; a member silent past the deadline is closed, so a rogue
 * member can delay a run, never hang it.
 */
export class ReplyCollector {
  private readonly waiting = new Set<Waiting>();
  private unclaimed: { from: Member; m: WorkerMessage }[] = [];
  private fatal: Error | null = null;

  /** Waits for one answer of `types` matching `key` from each of `from`. */
  gather<T extends WorkerMessage['type']>(
    types: readonly T[],
    key: (m: WorkerMessageOf<T>) => boolean,
    from: readonly Member[],
    deadlineMs: number,
  ): Promise<Gathered<WorkerMessageOf<T>>> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (from.length === 0) return Promise.resolve({ ok: true, answers: new Map() });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.waiting.has(waiting)) return;
        for (const c of from) if (!waiting.got.has(c)) c.close(CLOSE.policy, `no '${types[0]}' within ${Math.round(deadlineMs / 1000)} s`);
      }, deadlineMs);
      timer.unref();
      const waiting: Waiting = {
        types,
        from: new Set(from),
        key: (m) => (types as readonly string[]).includes(m.type) && key(m as WorkerMessageOf<T>),
        got: new Map(),
        settle: (result) => {
          clearTimeout(timer);
          this.waiting.delete(waiting);
          if (result instanceof Error) reject(result);
          else resolve(result as Gathered<WorkerMessageOf<T>>);
        },
      };
      this.waiting.add(waiting);
      const earlier = this.unclaimed;
      this.unclaimed = [];
      for (const u of earlier) if (!this.offer(u.from, u.m)) this.unclaimed.push(u);
    });
  }

  /** An answer from a member: to the wait that wants it, else kept for a wait still to come. */
  accept(from: Member, m: WorkerMessage): void {
    if (this.offer(from, m)) return;
    if (this.unclaimed.filter((u) => u.from === from).length >= MAX_UNCLAIMED_PER_MEMBER) {
      from.close(CLOSE.protocolError, `unexpected '${m.type}'`);
      return;
    }
    this.unclaimed.push({ from, m });
  }

  /** The group broke: every wait ends with `{ ok: false }` and what had arrived. */
  interruptAll(reason: string): void {
    for (const w of [...this.waiting]) w.settle({ ok: false, reason, partial: w.got });
  }

  /** The run is failing: every wait, now and later, rejects with `error`. */
  failAll(error: Error): void {
    this.fatal ??= error;
    for (const w of [...this.waiting]) w.settle(error);
  }

  /** Forgets what a departed member had sent ahead. */
  forget(member: Member): void {
    this.unclaimed = this.unclaimed.filter((u) => u.from !== member);
  }

  /** A new group starts: answers to the broken group's requests are of no use to it. */
  dropStaleAnswers(): void {
    this.unclaimed = this.unclaimed.filter((u) => u.m.type === 'ready' || u.m.type === 'failure');
  }

  private offer(from: Member, m: WorkerMessage): boolean {
    for (const w of this.waiting) {
      if (!w.from.has(from) || !w.key(m)) continue;
      if (w.got.has(from)) {
        from.close(CLOSE.protocolError, `duplicate '${m.type}'`);
        return true;
      }
      w.got.set(from, m);
      if (w.got.size === w.from.size) w.settle({ ok: true, answers: w.got });
      return true;
    }
    return false;
  }
}
