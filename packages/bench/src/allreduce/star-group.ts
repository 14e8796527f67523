import type { StarClient } from '@gradsync/collective';
import { joinStarCoordinator, listenStarCoordinator } from './bench-star';

/** The training path's star group in one process: a coordinator (WorkerHub + StarRelay) and `world` StarClients, indexed by rank. */
export async function starGroup(world: number, timeoutMs = 60_000): Promise<{ reducers: StarClient[]; close(): Promise<void> }> {
  const log = () => {};
  const coordinator = await listenStarCoordinator(world, log);
  const ranks = await Promise.all(Array.from({ length: world }, () => joinStarCoordinator(coordinator.url, { timeoutMs, log })));
  ranks.sort((a, b) => a.rank - b.rank);
  return {
    reducers: ranks.map((r) => r.reducer),
    async close() {
      await Promise.all(ranks.map((r) => r.close()));
      await coordinator.close();
    },
  };
}
