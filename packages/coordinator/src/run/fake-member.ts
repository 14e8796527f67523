import type { CoordinatorMessage } from '@gradsync/protocol';
import type { Member } from './member';

/** A member without a socket, for the run parts' unit tests: it records what it is sent and how it was closed. */
export interface FakeMember extends Member {
  sent: CoordinatorMessage[];
  frames: number;
  closed: { code: number; reason: string } | null;
}

export function fakeMember(rank: number): FakeMember {
  const member: FakeMember = {
    rank,
    hello: null,
    label: `rank ${rank}`,
    sent: [],
    frames: 0,
    closed: null,
    send: (m) => void member.sent.push(m),
    sendFrame: () => void member.frames++,
    sendFlushed: (m) => {
      member.sent.push(m);
      return Promise.resolve(member.closed === null);
    },
    close: (code, reason) => void (member.closed ??= { code, reason }),
  };
  return member;
}
