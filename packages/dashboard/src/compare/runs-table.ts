import type { RunSummary } from '@gradsync/metrics';
import { card, h } from '../view-kit/dom';
import { formatDuration, formatNumber, formatPercent } from '../view-kit/format';

const COLUMNS: { title: string; cell: (r: RunSummary) => string; num?: boolean }[] = [
  { title: 'model', cell: (r) => r.model ?? '—' },
  { title: 'epochs', cell: (r) => `${r.epochsDone}${r.epochsPlanned !== null && r.epochsPlanned !== r.epochsDone ? ` / ${r.epochsPlanned}` : ''}`, num: true },
  { title: 'batch', cell: (r) => formatNumber(r.batchSize), num: true },
  { title: 'lr', cell: (r) => (r.lr === null ? '—' : String(r.lr)), num: true },
  { title: 'workers', cell: (r) => String(r.workers), num: true },
  { title: 'backend', cell: (r) => r.backend ?? '—' },
  { title: 'final test acc', cell: (r) => formatPercent(r.finalTestAccuracy), num: true },
  { title: 'best val acc', cell: (r) => formatPercent(r.bestValidationAccuracy), num: true },
  { title: 'wall time', cell: (r) => formatDuration(r.wallSec), num: true },
  { title: 'img/s', cell: (r) => formatNumber(r.imagesPerSec), num: true },
  { title: 'status', cell: (r) => r.status },
];

/** The picked runs side by side: configuration and final figures, a colour swatch tying each to its curves. */
export class RunsTable {
  readonly root: HTMLElement;
  private readonly tbody = h('tbody');

  constructor() {
    const c = card('Runs', 'runs-card', 'span-2');
    const head = h('tr', {}, h('th', { text: 'run' }), ...COLUMNS.map((col) => h('th', { text: col.title, class: col.num ? 'num' : '' })));
    c.body.append(h('table', { class: 'workers runs-table', testId: 'runs-table' }, h('thead', {}, head), this.tbody));
    this.root = c.root;
  }

  update(runs: readonly RunSummary[], colorOf: (name: string) => string): void {
    this.tbody.replaceChildren(
      ...runs.map((r) => {
        const swatch = h('i', { class: 'run-swatch' });
        swatch.style.background = colorOf(r.name);
        return h(
          'tr',
          { attrs: { 'data-run': r.name } },
          h('td', { class: 'run-cell' }, swatch, r.name),
          ...COLUMNS.map((col) => h('td', { text: col.cell(r), class: col.num ? 'num' : '' })),
        );
      }),
    );
  }
}
