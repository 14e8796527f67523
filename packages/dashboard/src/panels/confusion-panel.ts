import { type ConfusionView, confusionView, topConfusions } from '../view-kit/confusion';
import { card, h } from '../view-kit/dom';
import { formatPercent } from '../view-kit/format';
import type { LatestEval } from '../view-kit/run-state';

/** Above this many classes the table would be unreadable: the panel lists the most confused pairs and the weakest classes instead. */
export const MAX_TABLE_CLASSES = 20;
/** How many pairs and classes that list shows. */
const LISTED = 15;

/** The latest confusion matrix as a heat-mapped table, and accuracy per class. */
export class ConfusionPanel {
  readonly root: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly caption: HTMLElement;
  private readonly confusions: HTMLElement;
  private readonly placeholder: HTMLElement;
  private readonly large: HTMLElement;

  constructor() {
    const c = card('Confusion matrix');
    this.caption = h('span', { class: 'muted' });
    c.aside.append(this.caption);
    this.table = h('table', { class: 'confusion', testId: 'confusion-matrix', attrs: { 'data-total': '0' } });
    this.confusions = h('p', { class: 'muted top-confusions' });
    this.placeholder = h('p', { class: 'empty', text: 'Appears after the first evaluation.' });
    this.large = h('div', { class: 'confusion-large', testId: 'confusion-large' });
    this.large.hidden = true;
    c.body.append(this.placeholder, h('div', { class: 'confusion-wrap' }, this.table), this.confusions, this.large);
    this.root = c.root;
  }

  update(latest: LatestEval | null, classNames: string[]): void {
    if (!latest) return;
    let view;
    try {
      view = confusionView(latest.summary.confusion);
    } catch {
      this.caption.textContent = 'malformed confusion matrix';
      return;
    }
    this.placeholder.hidden = true;
    const name = (i: number) => classNames[i] ?? `class ${i}`;
    const when = latest.epoch === null ? 'final test' : `${latest.source} · epoch ${latest.epoch + 1}`;
    this.caption.textContent = `${when} · ${view.total.toLocaleString('en-US')} images · accuracy ${formatPercent(view.accuracy)}`;
    this.table.dataset.total = String(view.total);
    if (view.size === 0 || view.size > MAX_TABLE_CLASSES) {
      this.showLarge(view, classNames.length, name);
      return;
    }
    this.large.hidden = true;
    this.table.hidden = false;

    const head = h(
      'tr',
      {},
      h('th', { class: 'corner', text: 'true ↓ predicted →' }),
      ...Array.from({ length: view.size }, (_, c) => h('th', { class: 'col', title: name(c) }, h('span', { text: name(c) }))),
      h('th', { class: 'acc-head', text: 'accuracy' }),
    );
    const rows = Array.from({ length: view.size }, (_, r) =>
      h(
        'tr',
        {},
        h('th', { class: 'row', text: name(r) }),
        ...Array.from({ length: view.size }, (_, c) => {
          const i = r * view.size + c;
          const v = view.normalized[i];
          const td = h('td', {
            text: String(view.counts[i]),
            title: `true ${name(r)} → predicted ${name(c)}: ${view.counts[i]} (${formatPercent(v)} of ${name(r)})`,
          });
          td.style.background = cellColor(v, r === c);
          if (v > 0.55) td.classList.add('dark');
          if (view.counts[i] === 0) td.classList.add('zero');
          return td;
        }),
        accuracyCell(view.perClassAccuracy[r]),
      ),
    );
    this.table.replaceChildren(h('thead', {}, head), h('tbody', {}, ...rows));

    const top = topConfusions(view, 3);
    this.confusions.textContent = top.length ? `most confused: ${top.map((t) => `${name(t.actual)} → ${name(t.predicted)} (${t.count})`).join(', ')}` : '';
  }

  /** Many classes: the pairs most often confused and the classes most often missed, as two lists. */
  private showLarge(view: ConfusionView, classCount: number, name: (i: number) => string): void {
    this.table.hidden = true;
    this.table.replaceChildren();
    this.confusions.textContent = '';
    this.large.hidden = false;
    if (view.size === 0) {
      this.large.replaceChildren(h('p', { class: 'muted', text: `${classCount} classes: no confusion matrix is kept above 1024 classes.` }));
      return;
    }
    const pairs = topConfusions(view, LISTED);
    const weakest = view.perClassAccuracy
      .map((acc, c) => ({ acc, c }))
      .filter((x): x is { acc: number; c: number } => x.acc !== null)
      .sort((a, b) => a.acc - b.acc || a.c - b.c)
      .slice(0, LISTED);
    this.large.replaceChildren(
      h('p', {
        class: 'muted',
        text: `${view.size} classes: too many to read as a ${view.size} × ${view.size} table, so the most confused pairs and the weakest classes.`,
      }),
      h(
        'div',
        { class: 'confusion-lists' },
        h(
          'table',
          { class: 'confusion-pairs', testId: 'confusion-pairs' },
          h('thead', {}, h('tr', {}, h('th', { text: 'true' }), h('th', { text: 'predicted as' }), h('th', { text: 'images' }), h('th', { text: 'of true' }))),
          h(
            'tbody',
            {},
            ...pairs.map((p) =>
              h(
                'tr',
                {},
                h('td', { text: name(p.actual) }),
                h('td', { text: name(p.predicted) }),
                h('td', { text: String(p.count) }),
                h('td', { text: formatPercent(p.rate) }),
              ),
            ),
          ),
        ),
        h(
          'table',
          { class: 'confusion-weakest', testId: 'confusion-weakest' },
          h('thead', {}, h('tr', {}, h('th', { text: 'class' }), h('th', { text: 'accuracy' }))),
          h('tbody', {}, ...weakest.map((w) => h('tr', {}, h('td', { text: name(w.c) }), accuracyCell(w.acc)))),
        ),
      ),
    );
  }
}

/** Accuracy of one true class: a bar and the percentage, at the end of its row. */
function accuracyCell(acc: number | null): HTMLElement {
  const fill = h('span', { class: 'fill' });
  fill.style.width = `${((acc ?? 0) * 100).toFixed(1)}%`;
  return h('td', { class: 'acc' }, h('span', { class: 'bar' }, fill), h('span', { class: 'value', text: formatPercent(acc) }));
}

/** Row-normalized value to a colour: the diagonal in blue, mistakes in red. */
function cellColor(v: number, diagonal: boolean): string {
  if (v <= 0) return 'transparent';
  const a = Math.min(1, 0.06 + v * 0.94);
  return diagonal ? `rgba(37, 99, 235, ${a.toFixed(3)})` : `rgba(220, 38, 38, ${Math.min(1, a * 1.6).toFixed(3)})`;
}
