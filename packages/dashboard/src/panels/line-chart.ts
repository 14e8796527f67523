import uPlot from 'uplot';
import type { AlignedTable } from '../view-kit/align';
import type { EpochMark } from '../view-kit/chart-data';
import { csvFileName, tableToCsv } from '../view-kit/csv';
import { h } from '../view-kit/dom';

export interface LineSpec {
  label: string;
  color: string;
  width?: number;
  /** Draw a dot at every point (sparse series such as per-epoch validation). */
  points?: boolean;
  dash?: number[];
}

export interface LineChartOptions {
  title: string;
  testId: string;
  lines: LineSpec[];
  yFormat?: (v: number) => string;
  /** Logarithmic y axis (learning rate). */
  logY?: boolean;
  /** Clamp the automatic y range (e.g. [0, 1] for accuracy). */
  yBounds?: [number, number];
  height?: number;
  /** Charts with the same key share the cursor. */
  syncKey?: string;
  /** The x axis (default: steps). */
  xLabel?: string;
  xFormat?: (v: number) => string;
}

const AXIS = { stroke: '#6b7280', grid: { stroke: '#eceff3', width: 1 }, ticks: { stroke: '#e3e6ea', width: 1 }, font: '11px system-ui, sans-serif' };

/**
 * One uPlot chart, x = steps unless told otherwise. `update` swaps in new data (the caller has
 * already decimated it); vertical epoch marks are drawn under the lines. Dragging zooms and
 * freezes the view until a double-click. Each chart has a log-scale toggle and a CSV download
 * of its points.
 */
export class LineChart {
  readonly root: HTMLElement;
  private readonly plotEl: HTMLElement;
  private plot!: uPlot;
  private marks: EpochMark[] = [];
  private zoomed = false;
  private lines: LineSpec[];
  private logY: boolean;
  private readonly logToggle: HTMLInputElement;
  private table: AlignedTable = { x: [], columns: [] };

  constructor(private options: LineChartOptions) {
    this.plotEl = h('div', { class: 'chart-plot' });
    this.lines = [...options.lines];
    this.logY = options.logY ?? false;
    this.logToggle = h('input', { attrs: { type: 'checkbox', 'aria-label': `${options.title}: log scale` } });
    this.logToggle.checked = this.logY;
    this.logToggle.addEventListener('change', () => {
      this.logY = this.logToggle.checked;
      this.rebuild();
    });
    const download = h('button', { class: 'chart-csv', text: 'CSV', title: 'download the points of this chart as CSV', testId: `${options.testId}-csv` });
    download.addEventListener('click', () => this.download());
    this.root = h(
      'div',
      { class: 'chart empty', testId: options.testId },
      h(
        'div',
        { class: 'chart-head' },
        h('div', { class: 'chart-title', text: options.title }),
        h('div', { class: 'chart-tools' }, h('label', { class: 'chart-log', testId: `${options.testId}-log` }, this.logToggle, 'log'), download),
      ),
      h('div', { class: 'chart-frame' }, this.plotEl, h('div', { class: 'chart-empty', text: 'waiting for the first step' })),
    );
    this.build();
    new ResizeObserver(() => {
      const width = Math.floor(this.plotEl.clientWidth);
      if (width > 0 && width !== this.plot.width) this.plot.setSize({ width, height: options.height ?? 220 });
    }).observe(this.plotEl);
  }

  /** The chart's points as drawn (smoothed and thinned as on screen), as CSV with the lines' labels. */
  csv(): string {
    return tableToCsv(
      this.options.xLabel ?? 'step',
      this.lines.map((l) => l.label),
      this.table,
    );
  }

  /** Replaces the lines and the x axis (the compare view: other runs picked, another x). */
  configure(change: { lines?: LineSpec[]; xLabel?: string; xFormat?: (v: number) => string }): void {
    if (change.lines) this.lines = [...change.lines];
    this.options = { ...this.options, ...('xLabel' in change ? { xLabel: change.xLabel } : {}), ...('xFormat' in change ? { xFormat: change.xFormat } : {}) };
    this.zoomed = false;
    this.rebuild();
  }

  private download(): void {
    const url = URL.createObjectURL(new Blob([this.csv()], { type: 'text/csv' }));
    const a = h('a', { attrs: { href: url, download: csvFileName(this.options.title, this.options.xLabel ?? 'step') } });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  /** uPlot fixes a scale's distribution and the series when it is made: a change makes a new one. */
  private rebuild(): void {
    const width = this.plot.width;
    this.plot.destroy();
    this.build(width);
    this.update(this.table, this.marks);
  }

  private build(width = 600): void {
    const options = this.options;
    const yFormat = options.yFormat;
    const xFormat = options.xFormat;
    const xLabel = options.xLabel ?? 'step';
    const bounds = options.yBounds;
    const plot = new uPlot(
      {
        width,
        height: options.height ?? 220,
        cursor: { sync: options.syncKey ? { key: options.syncKey } : undefined, drag: { x: true, y: false } },
        legend: { live: true },
        scales: {
          x: { time: false },
          y: this.logY
            ? { distr: 3 }
            : bounds
              ? {
                  range: (_u, min, max) => {
                    const pad = Math.max((max - min) * 0.08, 0.01);
                    return [Math.max(bounds[0], min - pad), Math.min(bounds[1], max + pad)];
                  },
                }
              : {},
        },
        axes: [
          {
            ...AXIS,
            label: xLabel,
            labelSize: 16,
            labelFont: AXIS.font,
            size: 34,
            values: xFormat ? (_u, splits) => splits.map((v) => (v === null ? '' : xFormat(v))) : undefined,
          },
          { ...AXIS, size: 56, space: 24, values: yFormat ? (_u, splits) => splits.map((v) => (v === null ? '' : yFormat(v))) : undefined },
        ],
        series: [
          { label: xLabel, value: (u, v, _s, idx) => formatLegend(lastIfIdle(u, v, 0, idx), xFormat ?? String) },
          ...this.lines.map((l) => this.seriesFor(l)),
        ],
        hooks: {
          drawAxes: [(u) => this.drawMarks(u)],
          setSelect: [
            (u) => {
              if (u.select.width > 0) this.zoomed = true;
            },
          ],
        },
      },
      [[], ...this.lines.map(() => [])],
      this.plotEl,
    );
    // Read back from uPlot, so a test sees the scale the chart really has.
    this.root.dataset.yScale = plot.scales.y?.distr === 3 ? 'log' : 'linear';
    plot.over.addEventListener('dblclick', () => {
      this.zoomed = false;
    });
    this.plot = plot;
  }

  /** Adds lines (e.g. a worker that just joined) so there are `lines.length` of them. */
  ensureLines(lines: LineSpec[]): void {
    for (let i = this.lines.length; i < lines.length; i++) {
      this.plot.addSeries(this.seriesFor(lines[i]));
      this.lines.push(lines[i]);
    }
  }

  update(table: AlignedTable, marks: EpochMark[] = []): void {
    this.marks = marks;
    this.table = table;
    const columns = table.columns.slice(0, this.lines.length);
    while (columns.length < this.lines.length) columns.push(table.x.map(() => null));
    this.root.classList.toggle('empty', table.x.length === 0);
    this.plot.setData([table.x, ...columns] as uPlot.AlignedData, !this.zoomed);
  }

  private seriesFor(l: LineSpec): uPlot.Series {
    const fmt = this.options.yFormat;
    return {
      label: l.label,
      stroke: l.color,
      width: l.width ?? 1.5,
      dash: l.dash,
      spanGaps: true,
      points: l.points ? { show: true, size: 7, fill: l.color, stroke: l.color } : { show: false },
      // Without a cursor on the chart the legend shows each line's latest value.
      value: (u, v, sidx, idx) => formatLegend(lastIfIdle(u, v, sidx, idx), (x) => (fmt ? fmt(x) : String(Number(x.toPrecision(4))))),
    };
  }

  private drawMarks(u: uPlot): void {
    if (!this.marks.length) return;
    const { ctx, bbox } = u;
    const dpr = window.devicePixelRatio || 1;
    ctx.save();
    ctx.strokeStyle = 'rgba(100, 116, 139, 0.45)';
    ctx.fillStyle = 'rgba(100, 116, 139, 0.9)';
    ctx.lineWidth = dpr;
    ctx.setLineDash([4 * dpr, 4 * dpr]);
    ctx.font = `${10 * dpr}px system-ui, sans-serif`;
    let lastLabel = -Infinity;
    for (const m of this.marks) {
      const x = Math.round(u.valToPos(m.step, 'x', true));
      if (x < bbox.left || x > bbox.left + bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      // Label only where there is room (many epochs: every few).
      if (x - lastLabel >= 28 * dpr) {
        ctx.fillText(`e${m.epoch + 1}`, x + 3 * dpr, bbox.top + 11 * dpr);
        lastLabel = x;
      }
    }
    ctx.restore();
  }
}

/** The value under the cursor, or the series' latest non-null value when the cursor is away. */
function lastIfIdle(u: uPlot, v: number | null | undefined, sidx: number, idx: number | null | undefined): number | null {
  if (idx !== null && idx !== undefined) return v ?? null;
  const column = u.data[sidx] as ArrayLike<number | null | undefined> | undefined;
  if (!column) return null;
  for (let i = column.length - 1; i >= 0; i--) {
    const x = column[i];
    if (x !== null && x !== undefined) return x;
  }
  return null;
}

function formatLegend(v: number | null, fmt: (v: number) => string): string {
  return v === null || !Number.isFinite(v) ? '—' : fmt(v);
}
