import { card, h, setText } from '../view-kit/dom';
import { computeProgress } from '../view-kit/eta';
import { formatDuration, formatNumber } from '../view-kit/format';
import type { RunState } from '../view-kit/run-state';

/** Epoch and run progress bars with time left, steps/s and elapsed time. */
export class ProgressPanel {
  readonly root: HTMLElement;
  private readonly epochLabel = h('span', { class: 'progress-label' });
  private readonly epochBar = h('span', { class: 'fill' });
  private readonly epochEta = h('span', { class: 'progress-eta' });
  private readonly runLabel = h('span', { class: 'progress-label' });
  private readonly runBar = h('span', { class: 'fill' });
  private readonly runEta = h('span', { class: 'progress-eta' });
  private readonly stats = h('div', { class: 'stats' });
  private readonly statValues = new Map<string, HTMLElement>();

  constructor() {
    const c = card('Progress', 'epoch-progress', 'span-2');
    const row = (label: HTMLElement, bar: HTMLElement, eta: HTMLElement) =>
      h('div', { class: 'progress-row' }, label, h('span', { class: 'progress' }, bar), eta);
    c.body.append(row(this.epochLabel, this.epochBar, this.epochEta), row(this.runLabel, this.runBar, this.runEta), this.stats);
    this.root = c.root;
    this.update(null, Date.now());
  }

  update(state: RunState | null, now: number): void {
    const input = state?.progressInput() ?? null;
    if (!state || !input) {
      setText(this.epochLabel, 'waiting for the run to start…');
      setText(this.runLabel, '');
      this.epochBar.style.width = '0%';
      this.runBar.style.width = '0%';
      setText(this.epochEta, '');
      setText(this.runEta, '');
      this.root.dataset.epoch = '';
      return;
    }
    const p = computeProgress(input);
    const ended = state.end !== null;
    this.root.dataset.epoch = String(p.epochIndex + 1);
    this.root.dataset.fraction = p.runFraction === null ? '' : p.runFraction.toFixed(4);
    setText(this.epochLabel, `epoch ${p.epochIndex + 1}${p.epochs !== null ? ` / ${p.epochs}` : ''} · step ${p.stepsIntoEpoch} / ${p.stepsPerEpoch}`);
    this.epochBar.style.width = `${(p.epochFraction * 100).toFixed(2)}%`;
    setText(this.epochEta, ended ? '' : p.etaEpochSec === null ? 'ETA —' : `epoch ends in ${formatDuration(p.etaEpochSec)}`);
    setText(this.runLabel, p.runFraction === null ? 'run' : `run ${(p.runFraction * 100).toFixed(1)}%`);
    this.runBar.style.width = `${((p.runFraction ?? 0) * 100).toFixed(2)}%`;
    this.runBar.classList.toggle('done', state.end?.status === 'completed');
    this.runBar.classList.toggle('failed', state.end !== null && state.end.status !== 'completed');
    setText(this.runEta, ended ? `${state.end!.status}` : p.etaRunSec === null ? 'ETA —' : `run ends in ${formatDuration(p.etaRunSec)}`);

    const s = state.steps;
    const lastIps = s.imagesPerSec.length ? s.imagesPerSec[s.imagesPerSec.length - 1] : null;
    const startT = state.run?.t ?? s.t[0] ?? now;
    const elapsed = ((ended ? state.end!.t : now) - startT) / 1000;
    const items: [string, string][] = [
      ['steps', s.step.length ? formatNumber(s.step[s.step.length - 1] + 1) : '0'],
      ['steps/s', formatNumber(input.stepsPerSec)],
      ['img/s', formatNumber(lastIps)],
      ['elapsed', formatDuration(ended ? state.end!.wallSec : elapsed)],
    ];
    for (const [key, value] of items) {
      let el = this.statValues.get(key);
      if (!el) {
        el = h('span', { class: 'stat-value' });
        this.statValues.set(key, el);
        this.stats.append(h('div', { class: 'stat' }, el, h('span', { class: 'stat-key', text: key })));
      }
      setText(el, value);
    }
  }
}
