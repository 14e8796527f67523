import { confusionView, topConfusions } from '../view-kit/confusion';
import { card, h } from '../view-kit/dom';
import { formatPercent } from '../view-kit/format';
import type { LatestEval } from '../view-kit/run-state';

/** The latest confusion matrix as a heat-mapped table, and accuracy per class. */
export class ConfusionPanel {
  readonly root: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly caption: HTMLElement;
  private readonly confusions: HTMLElement;
  private readonly placeholder: HTMLElement;

  constructor() {
    const c = card('Confusion matrix');
    this.caption = h('span', { class: 'muted' });
    c.aside.append(this.caption);
    this.table = h('table', { class: 'confusion', testId: 'confusion-matrix', attrs: { 'data-total': '0' } });
    this.confusions = h('p', { class: 'muted top-confusions' });
    this.placeholder = h('p', { class: 'empty', text: 'Appears after the first evaluation.' });
    c.body.append(this.placeholder, h('div', { class: 'confusion-wrap' }, this.table), this.confusions);
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
