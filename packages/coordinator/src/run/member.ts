import type { WorkerConnection } from '../hub/worker-hub';

/** What the run's parts use of a worker connection: unit tests hand them fakes. */
export type Member = Pick<WorkerConnection, 'rank' | 'hello' | 'label' | 'send' | 'sendFrame' | 'sendFlushed' | 'close'>;
