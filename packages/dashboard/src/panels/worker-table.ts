import { card, h, setText } from '../view-kit/dom';
import { formatAgo, formatBytes, formatNumber } from '../view-kit/format';
import type { WorkerView } from '../view-kit/run-state';
import type { Straggler } from '../view-kit/straggler';

/** A worker whose latest record is older than this while it is training is flagged as stale. */
export const STALE_AFTER_MS = 30_000;

interface Row {
  tr: HTMLTableRowElement;
  host: HTMLElement;
  device: HTMLElement;
  status: HTMLElement;
  heartbeat: HTMLElement;
  ips: HTMLElement;
  share: HTMLElement;
  cpu: HTMLElement;
  rss: HTMLElement;
  gpu: HTMLElement;
  wire: HTMLElement;
  compute: HTMLElement;
  allreduce: HTMLElement;
  wait: HTMLElement;
  splitLabel: HTMLElement;
}

/**
 * One row per rank: identity, status, last heartbeat, img/s, its share of the global batch, CPU
 * and memory, and where its step time goes; under the table, who held the latest step back.
 */
export class WorkerTable {
  readonly root: HTMLElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly empty: HTMLElement;
  private readonly straggler: HTMLElement;
  private readonly rows = new Map<number, Row>();

  constructor() {
    const c = card('Workers', undefined, 'span-2');
    c.aside.append(
      h(
        'span',
        { class: 'legend' },
        h('i', { class: 'swatch compute' }),
        'compute',
        h('i', { class: 'swatch allreduce' }),
        'all-reduce',
        h('i', { class: 'swatch wait' }),
        'waiting',
      ),
    );
    this.tbody = h('tbody');
    const head = [
      'rank',
      'host',
      'backend · device',
      'status',
      'last heartbeat',
      'img/s',
      'share',
      'CPU',
      'RSS',
      'GPU mem',
      'wire / step',
      'step time (mean of last 20 steps)',
    ];
    const table = h('table', { class: 'workers', testId: 'worker-table' }, h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { text: t })))), this.tbody);
    this.empty = h('p', { class: 'empty', text: 'No worker has joined yet.' });
    this.straggler = h('p', { class: 'straggler', testId: 'straggler' });
    c.body.append(table, this.empty, this.straggler);
    this.root = c.root;
  }

  update(workers: WorkerView[], now: number, runEnded: boolean, straggler: Straggler | null = null): void {
    this.empty.hidden = workers.length > 0;
    this.showStraggler(straggler, workers);
    const ranks = new Set(workers.map((w) => w.rank));
    for (const [rank, row] of this.rows) {
      if (!ranks.has(rank)) {
        row.tr.remove();
        this.rows.delete(rank);
      }
    }
    for (const w of workers) {
      const row = this.rows.get(w.rank) ?? this.addRow(w.rank);
      row.tr.dataset.status = w.status;
      // A browser tab has no process id to show (it says pid 0).
      setText(row.host, w.host === null ? '—' : `${w.host}${w.pid !== null && w.pid !== 0 ? ` · pid ${w.pid}` : ''}`);
      setText(row.device, w.backend === null ? '—' : `${w.backend} · ${w.device}`);
      setText(row.status, w.status);
      row.status.className = `pill ${w.status}`;
      row.status.title = w.reason ?? '';
      const age = now - w.lastSeen;
      setText(row.heartbeat, formatAgo(age));
      row.heartbeat.classList.toggle('stale', w.status !== 'gone' && !runEnded && age > STALE_AFTER_MS);
      setText(row.ips, formatNumber(w.imagesPerSec));
      setText(row.share, w.share === null ? '—' : `${(100 * w.share).toFixed(w.share < 0.1 ? 1 : 0)}%`);
      row.tr.classList.toggle('straggler', straggler?.rank === w.rank && !runEnded);
      // CPU as top shows it: 100% is one core busy.
      setText(row.cpu, w.usage ? `${Math.round(w.usage.cpuPercent)}%` : '—');
      setText(row.rss, formatBytes(w.usage?.rssBytes));
      setText(row.gpu, formatBytes(w.usage?.gpuBytes));
      setText(row.wire, w.wire ? `↑${formatBytes(w.wire.sentBytes)} ↓${formatBytes(w.wire.receivedBytes)}` : '—');
      const s = w.split;
      const total = s ? s.computeMs + s.allreduceMs + s.waitMs : 0;
      const pct = (v: number) => (total > 0 ? (100 * v) / total : 0);
      row.compute.style.width = `${s ? pct(s.computeMs) : 0}%`;
      row.allreduce.style.width = `${s ? pct(s.allreduceMs) : 0}%`;
      row.wait.style.width = `${s ? pct(s.waitMs) : 0}%`;
      setText(row.splitLabel, s ? `${Math.round(total)} ms` : '—');
      row.tr.title = s
        ? `compute ${s.computeMs.toFixed(0)} ms (${pct(s.computeMs).toFixed(0)}%) · all-reduce ${s.allreduceMs.toFixed(0)} ms (${pct(s.allreduceMs).toFixed(0)}%) · waiting ${s.waitMs.toFixed(0)} ms (${pct(s.waitMs).toFixed(0)}%)`
        : '';
    }
  }

  /** "Step 812 waited on rank 1 (wasm): ..." — live, from the latest step record. */
  private showStraggler(s: Straggler | null, workers: readonly WorkerView[]): void {
    this.straggler.hidden = s === null;
    if (!s) return;
    const backend = workers.find((w) => w.rank === s.rank)?.backend;
    const share = s.share === null ? '' : `, share ${(100 * s.share).toFixed(0)}% of the batch`;
    setText(
      this.straggler,
      `Step ${s.step} waited on rank ${s.rank}${backend ? ` (${backend})` : ''}: its gradient took ${s.computeMs.toFixed(0)} ms against ` +
        `${s.othersMs.toFixed(0)} ms for the next slowest, holding the others ${s.heldMs.toFixed(0)} ms${share}; it waited ${s.waitMs.toFixed(0)} ms between steps.`,
    );
  }

  private addRow(rank: number): Row {
    const cell = () => h('td');
    const host = cell();
    const device = cell();
    const status = h('span', { class: 'pill' });
    const heartbeat = cell();
    const ips = h('td', { class: 'num' });
    const share = h('td', { class: 'num', attrs: { 'data-col': 'share' } });
    const cpu = h('td', { class: 'num', attrs: { 'data-col': 'cpu' } });
    const rss = h('td', { class: 'num', attrs: { 'data-col': 'rss' } });
    const gpu = h('td', { class: 'num', attrs: { 'data-col': 'gpu' } });
    const wire = h('td', {
      class: 'num',
      attrs: { 'data-col': 'wire' },
      title: 'bytes this rank sent (↑) and received (↓) in its all-reduce of its latest step',
    });
    const compute = h('span', { class: 'seg compute' });
    const allreduce = h('span', { class: 'seg allreduce' });
    const wait = h('span', { class: 'seg wait' });
    const splitLabel = h('span', { class: 'split-label' });
    const tr = h(
      'tr',
      { attrs: { 'data-rank': String(rank) } },
      h('td', { class: 'num', text: String(rank) }),
      host,
      device,
      h('td', {}, status),
      heartbeat,
      ips,
      share,
      cpu,
      rss,
      gpu,
      wire,
      h('td', { class: 'split' }, h('span', { class: 'bar' }, compute, allreduce, wait), splitLabel),
    );
    // Keep rows in rank order.
    const after = [...this.rows.keys()].filter((r) => r > rank).sort((a, b) => a - b)[0];
    if (after === undefined) this.tbody.append(tr);
    else this.tbody.insertBefore(tr, this.rows.get(after)!.tr);
    const row = { tr, host, device, status, heartbeat, ips, share, cpu, rss, gpu, wire, compute, allreduce, wait, splitLabel };
    this.rows.set(rank, row);
    return row;
  }
}
