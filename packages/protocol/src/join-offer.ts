/** GET /api/join on the coordinator: whether its dashboard page may start a worker in the tab, and how. */
export type JoinOffer =
  | {
      allowed: true;
      /** The WebSocket path of the worker endpoint on the page's own host. */
      workerPath: string;
      /** The run's --token, when it has one: a tab says hello like any worker. */
      token?: string;
    }
  | { allowed: false; why: string };
