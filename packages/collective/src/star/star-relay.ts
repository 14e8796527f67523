import { StarReductionHub } from '../algorithms/index';
import { CLOSE, encodeMessage, floatsFromBytes, floatsToBytes } from '@gradsync/protocol';

/** What the relay needs of a group member's link to the coordinator. */
export interface StarMember {
  readonly rank: number;
  sendFrame(frame: Uint8Array): void;
  close(code: number, reason: string): void;
}

/**
 * The coordinator's half of the star all-reduce in training: each member sends its gradient as a
 * `star-part`; once every rank of the group has sent operation `op`, the rank-ordered sum goes back
 * to all of them as one `star-sum`. One relay per group: parts for an older group are dropped.
 */
export class StarRelay {
  private readonly hub: StarReductionHub;

  constructor(private readonly members: readonly StarMember[]) {
    this.hub = new StarReductionHub({ world: members.length });
  }

  /** A member's part; a malformed one (wrong length, duplicate, unknown op) closes that member's link. */
  onPart(conn: StarMember, op: number, bytes: Uint8Array): void {
    if (!this.members.includes(conn)) return; // a part for a group that no longer exists
    let sum: Float32Array | null;
    try {
      sum = this.hub.contribute(op, conn.rank, floatsFromBytes(bytes, 'star part').slice());
    } catch (err) {
      conn.close(CLOSE.protocolError, (err as Error).message);
      return;
    }
    if (sum) {
      const frame = encodeMessage({ type: 'star-sum', op, data: floatsToBytes(sum) });
      for (const w of this.members) w.sendFrame(frame);
    }
  }
}
