/**
 * The star all-reduce as training runs it, for the benchmark: the coordinator's side is the real
 * WorkerHub (hello, validation, heartbeat) feeding a real StarRelay; each rank is a real StarClient
 * over a real coordinator link (connectToCoordinator), exchanging `star-part` / `star-sum`.
 * What it leaves out of training is only the run around it (data, steps, the replica).
 */
import http from 'node:http';
import { hostname } from 'node:os';
import { GradsyncError } from '@gradsync/core';
import type { WorkerMessage } from '@gradsync/protocol';
import { StarRelay, StarClient } from '@gradsync/collective';
import { WORKER_PATH, WorkerHub, type WorkerConnection } from '@gradsync/coordinator';
import { connectToCoordinator, type CoordinatorLink } from '@gradsync/worker';

const MAX_PAYLOAD = 2 ** 30;
const GROUP_ID = 1;

/** The coordinator's half: forms one star group of `world` once that many workers said hello. */
export interface StarCoordinator {
  /** Where ranks connect (the coordinator's worker endpoint). */
  readonly url: string;
  /** Resolves once every rank is a member of the group and has been told its rank. */
  readonly formed: Promise<void>;
  close(): Promise<void>;
}

export async function listenStarCoordinator(world: number, log: (line: string) => void): Promise<StarCoordinator> {
  const server = http.createServer((_req, res) => res.writeHead(426).end());
  let relay: StarRelay | null = null;
  const members: WorkerConnection[] = [];
  let formedResolve: () => void = () => {};
  const formed = new Promise<void>((resolve) => (formedResolve = resolve));
  const hub = new WorkerHub(
    server,
    {
      onHello: (conn) => {
        // Ranks in order of arrival: the inputs make the sum exact in any order, so which bench
        // process is which rank does not matter.
        conn.rank = members.length;
        members.push(conn);
        if (members.length < world) return;
        relay = new StarRelay(members);
        for (const w of members) w.send({ type: 'group', algorithm: 'star', rank: w.rank, world, peers: [], groupId: GROUP_ID });
        formedResolve();
      },
      onMessage: (conn, message: WorkerMessage) => {
        if (message.type === 'star-part') relay?.onPart(conn, message.op, message.data);
      },
      onGone: (conn, reason) => {
        if (relay) log(`star benchmark: ${conn.label} left: ${reason}`);
      },
      log: (_level, line) => log(line),
    },
    { maxPayload: MAX_PAYLOAD },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new GradsyncError('E_BENCH', `star coordinator cannot listen: ${err.message}`, { cause: err })));
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}${WORKER_PATH}`,
    formed,
    close: async () => {
      relay = null; // members leaving now is the end of the benchmark, not news
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One rank's half: a StarClient over its coordinator link, once the group is formed. */
export interface StarRank {
  /** The rank the coordinator gave this link. */
  readonly rank: number;
  readonly reducer: StarClient;
  close(): Promise<void>;
}

export async function joinStarCoordinator(url: string, options: { timeoutMs: number; log: (line: string) => void }): Promise<StarRank> {
  let reducer: StarClient | null = null;
  let joined: (member: { rank: number; reducer: StarClient }) => void = () => {};
  const group = new Promise<{ rank: number; reducer: StarClient }>((resolve) => (joined = resolve));
  let link: CoordinatorLink | null = null;
  link = await connectToCoordinator({
    url,
    connectTimeoutMs: 30_000,
    maxPayload: MAX_PAYLOAD,
    log: options.log,
    onMessage: (message) => {
      if (message.type === 'group') {
        reducer = new StarClient({ send: (m) => link?.send(m), timeoutMs: options.timeoutMs });
        joined({ rank: message.rank, reducer });
      } else if (message.type === 'star-sum') {
        const delivery = reducer?.deliver(message.op, message.data);
        if (delivery && !delivery.ok) options.log(delivery.reason);
      }
    },
  });
  const open = link;
  open.send({ type: 'hello', v: 1, host: hostname(), pid: process.pid, backend: 'bench', device: 'none', peerUrl: null });
  const closed = open.closed.then(({ code, reason }) => {
    throw new GradsyncError('E_BENCH', `the star coordinator closed the link before the group formed (${code} ${reason})`);
  });
  closed.catch(() => {}); // only raced below; a close after the group formed is the normal end
  const member = await Promise.race([group, closed]);
  return {
    ...member,
    close: async () => {
      await member.reducer.close();
      open.close();
      await open.closed;
    },
  };
}
