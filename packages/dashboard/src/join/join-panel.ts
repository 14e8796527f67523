import type { JoinOffer } from '@gradsync/protocol';
import type { PageToTab, TabState, TabToPage } from '@gradsync/worker/browser';
import { card, h, setText } from '../view-kit/dom';
import { tabLabel, workerUrl } from './join-offer';

const LOG_LINES = 12;

/**
 * "Join this run": starts a training worker in this tab (a dedicated Web Worker, so the charts
 * stay smooth) and shows what it does. Leaving, closing or freezing the tab ends its link; the
 * coordinator treats that like any worker leaving.
 */
export class JoinPanel {
  readonly root: HTMLElement;
  private readonly button: HTMLButtonElement;
  private readonly state: HTMLElement;
  private readonly device: HTMLElement;
  private readonly log: HTMLElement;
  private readonly lines: string[] = [];
  private worker: Worker | null = null;

  constructor(private readonly offer: Extract<JoinOffer, { allowed: true }>) {
    const c = card('This tab as a worker', 'join-panel');
    this.button = h('button', { class: 'join-button', text: 'Join this run', testId: 'join-button', attrs: { type: 'button' } });
    this.button.addEventListener('click', () => (this.worker ? this.leave('left with the Leave button') : this.join()));
    this.state = h('div', { class: 'join-state', testId: 'join-state', text: 'not joined', attrs: { 'data-state': 'idle' } });
    this.device = h('div', { class: 'muted', testId: 'join-device' });
    this.log = h('ol', { class: 'join-log', testId: 'join-log' });
    c.body.append(
      h('p', {
        class: 'muted',
        text: 'Trains in this tab with TensorFlow.js (WebGPU on a real GPU, else wasm) beside the other workers, with the same protocol and checks. Closing the tab leaves the run; nothing is lost.',
      }),
      this.button,
      this.state,
      this.device,
      this.log,
    );
    this.root = c.root;
    // A closed or frozen tab should leave at once rather than be found gone by the heartbeat.
    addEventListener('pagehide', () => this.leave('the tab was closed'));
    document.addEventListener('freeze', () => this.leave('the browser froze the tab'));
  }

  private join(): void {
    const worker = new Worker(new URL('./tab-worker-entry.ts', import.meta.url), { type: 'module', name: 'gradsync tab worker' });
    this.worker = worker;
    worker.addEventListener('message', (event: MessageEvent<TabToPage>) => this.onTabMessage(event.data));
    worker.addEventListener('error', (event) => this.setState('failed', event.message || 'the tab worker failed to start'));
    const start: PageToTab = {
      type: 'start',
      url: workerUrl(location, this.offer.workerPath),
      token: this.offer.token,
      wasmBase: new URL('tfjs-wasm/', location.href).href,
      backend: backendChoice(new URLSearchParams(location.search).get('tab-backend')),
      label: tabLabel(navigator.userAgent),
    };
    worker.postMessage(start);
    setText(this.button, 'Leave');
    this.button.dataset.joined = 'true';
  }

  private leave(why: string): void {
    const worker = this.worker;
    if (!worker) return;
    worker.postMessage({ type: 'leave' } satisfies PageToTab);
    this.appendLog(why);
    // The link closes from inside the worker; end the worker itself once it had the chance.
    setTimeout(() => worker.terminate(), 1000);
  }

  private onTabMessage(message: TabToPage): void {
    if (message.type === 'log') this.appendLog(message.line);
    else if (message.type === 'backend') setText(this.device, `${message.name}: ${message.device}`);
    else this.setState(message.state, message.detail);
  }

  private setState(state: TabState, detail: string): void {
    this.state.dataset.state = state;
    setText(this.state, `${state}: ${detail}`);
    if (state === 'ended' || state === 'failed') {
      this.worker?.terminate();
      this.worker = null;
      setText(this.button, 'Join this run');
      this.button.dataset.joined = 'false';
    }
  }

  private appendLog(line: string): void {
    this.lines.push(`${new Date().toLocaleTimeString([], { hour12: false })} ${line}`);
    if (this.lines.length > LOG_LINES) this.lines.shift();
    this.log.replaceChildren(...this.lines.map((l) => h('li', { text: l })));
  }
}

/** `?tab-backend=wasm|webgpu` picks the tab's backend; anything else means auto. */
function backendChoice(value: string | null): 'auto' | 'wasm' | 'webgpu' {
  return value === 'wasm' || value === 'webgpu' ? value : 'auto';
}
