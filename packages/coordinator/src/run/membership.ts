import type { Member } from './member';

export interface MembershipOptions {
  /** Workers to wait for before the first step. */
  expectWorkers: number;
  /** Below this many, training pauses until workers join (default 1). */
  minWorkers: number;
  /** More are refused (default: no limit beyond 1024). */
  maxWorkers: number;
}

export type Admission = { ok: true; provisionalRank: number } | { ok: false; reason: string };

export type Departure = 'member' | 'joining' | 'unknown';

/**
 * Who takes part: the group's members (index = rank) and the workers admitted since, which join at
 * the next step boundary once their data has arrived. Knows nothing of sockets or steps.
 */
export class Membership {
  private membersByRank: Member[] = [];
  private joiners: Member[] = [];
  private readonly dataReady = new WeakSet<Member>();
  private changeWaiters: (() => void)[] = [];

  constructor(readonly options: MembershipOptions) {}

  get members(): readonly Member[] {
    return this.membersByRank;
  }

  get joining(): readonly Member[] {
    return this.joiners;
  }

  admit(worker: Member): Admission {
    const count = this.membersByRank.length + this.joiners.length;
    if (count >= this.options.maxWorkers) return { ok: false, reason: `the run already has ${count} workers (--max-workers ${this.options.maxWorkers})` };
    this.joiners.push(worker);
    this.changed();
    // The rank it gets at the next regroup unless someone leaves first.
    return { ok: true, provisionalRank: count };
  }

  markDataReady(worker: Member): void {
    this.dataReady.add(worker);
    this.changed();
  }

  /** Joiners whose data has arrived: they enter the group at the next regroup. */
  readyJoiners(): Member[] {
    return this.joiners.filter((c) => this.dataReady.has(c));
  }

  leave(worker: Member): Departure {
    const wasMember = this.membersByRank.includes(worker);
    const wasJoining = this.joiners.includes(worker);
    this.membersByRank = this.membersByRank.filter((c) => c !== worker);
    this.joiners = this.joiners.filter((c) => c !== worker);
    if (wasMember || wasJoining) this.changed();
    return wasMember ? 'member' : wasJoining ? 'joining' : 'unknown';
  }

  /** The survivors, then the joiners, ranked in that order. */
  formGroup(joiners: readonly Member[]): readonly Member[] {
    this.joiners = this.joiners.filter((c) => !joiners.includes(c));
    this.membersByRank = [...this.membersByRank, ...joiners];
    this.membersByRank.forEach((w, rank) => (w.rank = rank));
    return this.membersByRank;
  }

  /** How many the group needs to train: --workers before the first group, --min-workers after. */
  needed(firstGroup: boolean): number {
    return firstGroup ? this.options.expectWorkers : this.options.minWorkers;
  }

  /** `2 of 3 worker(s) ready, 1 receiving data, 0 not connected yet` */
  describeWaiting(needed: number): string {
    const ready = this.membersByRank.length + this.readyJoiners().length;
    const receiving = this.joiners.length - this.readyJoiners().length;
    const absent = Math.max(0, needed - ready - receiving);
    return `${ready} of ${needed} worker(s) ready, ${receiving} receiving data, ${absent} not connected yet`;
  }

  /** Resolves at the next admission, departure or data arrival. */
  nextChange(): Promise<void> {
    return new Promise((resolve) => this.changeWaiters.push(resolve));
  }

  /** Wakes whoever waits for a change (also used when the run fails). */
  changed(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const w of waiters) w();
  }
}
