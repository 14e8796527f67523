import type { AllReducer } from '@gradsync/collective/browser';
import { WorkerSession, type RingProvider } from '../session/worker-session';
import { connectFromBrowser } from './browser-link';
import { setUpTabBackend } from './tab-backend';
import type { PageToTab, TabStart, TabState, TabToPage } from './tab-messages';

/** A tab cannot listen for ring links: it offers none, and the coordinator gives its group a star. */
const NO_RING: RingProvider = {
  peerUrl: null,
  prepare: async () => null,
  join: (): Promise<AllReducer> => Promise.reject(new Error('a browser tab cannot join a ring: it accepts no connections')),
};

export interface TabScope {
  postMessage(message: TabToPage): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<PageToTab>) => void): void;
}

/**
 * The training worker of a browser tab, run inside a dedicated Web Worker: the same WorkerSession,
 * protocol checks, data set checksum and replica code as `pnpm worker`, over the browser's
 * WebSocket and TensorFlow.js backend. One session per start; leaving closes the link, which the
 * coordinator handles like any departing worker.
 */
export function runTabWorker(scope: TabScope): void {
  const post = (message: TabToPage) => scope.postMessage(message);
  const log = (line: string) => post({ type: 'log', line });
  let session: WorkerSession | null = null;
  let leaving = false;
  scope.addEventListener('message', (event) => {
    const message = event.data;
    if (message.type === 'leave') {
      leaving = true;
      void session?.leave('the tab left the run');
      return;
    }
    if (message.type === 'start' && session === null) {
      void start(message).catch((err: unknown) => post({ type: 'state', state: 'failed', detail: err instanceof Error ? err.message : String(err) }));
    }
  });

  let reported = '';
  /** The session's phase and step as a status line, posted when it changes. */
  function reportProgress(current: WorkerSession): void {
    const phase = current.phaseName;
    const status: { state: TabState; detail: string } | null =
      phase === 'receiving-data'
        ? { state: 'receiving-data', detail: 'receiving the data set' }
        : phase === 'ready'
          ? { state: 'waiting', detail: 'data set checked; waiting for a group' }
          : phase === 'in-group'
            ? { state: 'training', detail: current.appliedStep >= 0 ? `step ${current.appliedStep} applied` : 'in a group, before its first step' }
            : null;
    if (!status || `${status.state}:${status.detail}` === reported) return;
    reported = `${status.state}:${status.detail}`;
    post({ type: 'state', ...status });
  }

  async function start(options: TabStart): Promise<void> {
    post({ type: 'state', state: 'loading', detail: 'starting TensorFlow.js' });
    const backend = await setUpTabBackend(options.backend, options.wasmBase);
    post({ type: 'backend', name: backend.name, device: backend.device });
    if (backend.note) log(`training on wasm: ${backend.note}`);
    const current = new WorkerSession({
      ring: NO_RING,
      log,
      identity: { host: options.label, pid: 0 },
      backend: backend.name,
      device: backend.device,
      token: options.token,
    });
    session = current;
    post({ type: 'state', state: 'connecting', detail: options.url });
    const link = await connectFromBrowser({ url: options.url, connectTimeoutMs: 15_000, log, onMessage: (m) => current.onMessage(m) });
    current.attach(link);
    const report = setInterval(() => reportProgress(current), 500);
    const end = await current.ended;
    clearInterval(report);
    post({ type: 'state', state: end.ok || leaving ? 'ended' : 'failed', detail: end.reason });
  }
}
