import uPlot from 'uplot';
import type { AlignedTable } from '../align';
import type { EpochMark } from '../chart-data';
import { h } from '../dom';

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
}

const AXIS = { stroke: '#6b7280', grid: { stroke: '#eceff3', width: 1 }, ticks: { stroke: '#e3e6ea', width: 1 }, font: '11px system-ui, sans-serif' };

/**
 * One uPlot chart with a fixed x axis of steps. `update` swaps in new data (the caller has
 * already decimated it); vertical epoch marks are drawn under the lines. Dragging zooms and
 * freezes the view until a double-click.
 */
export class LineChart {
  readonly root: HTMLElement;
  private readonly plotEl: HTMLElement;
  private readonly plot: uPlot;
  private marks: EpochMark[] = [];
  private zoomed = false;
  private lineCount: number;

  constructor(private readonly options: LineChartOptions) {
    this.plotEl = h('div', { class: 'chart-plot' });
    this.root = h(
      'div',
      { class: 'chart empty', testId: options.testId },
      h('div', { class: 'chart-title', text: options.title }),
      h('div', { class: 'chart-frame' }, this.plotEl, h('div', { class: 'chart-empty', text: 'waiting for the first step' })),
    );
    this.lineCount = options.lines.length;
    const yFormat = options.yFormat;
    const bounds = options.yBounds;
    this.plot = new uPlot(
      {
        width: 600,
        height: options.height ?? 220,
        cursor: { sync: options.syncKey ? { key: options.syncKey } : undefined, drag: { x: true, y: false } },
        legend: { live: true },
        scales: {
          x: { time: false },
          y: options.logY
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
          { ...AXIS, label: 'step', labelSize: 16, labelFont: AXIS.font, size: 34 },
          { ...AXIS, size: 56, space: 24, values: yFormat ? (_u, splits) => splits.map((v) => (v === null ? '' : yFormat(v))) : undefined },
        ],
        series: [{ label: 'step', value: (u, v, _s, idx) => formatLegend(lastIfIdle(u, v, 0, idx), String) }, ...options.lines.map((l) => this.seriesFor(l))],
        hooks: {
          drawAxes: [(u) => this.drawMarks(u)],
          setSelect: [
            (u) => {
              if (u.select.width > 0) this.zoomed = true;
            },
          ],
        },
      },
      [[], ...options.lines.map(() => [])],
      this.plotEl,
    );
    this.plot.over.addEventListener('dblclick', () => {
      this.zoomed = false;
    });
    new ResizeObserver(() => {
      const width = Math.floor(this.plotEl.clientWidth);
      if (width > 0 && width !== this.plot.width) this.plot.setSize({ width, height: options.height ?? 220 });
    }).observe(this.plotEl);
  }

  /** Adds lines (e.g. a worker that just joined) so there are `lines.length` of them. */
  ensureLines(lines: LineSpec[]): void {
    for (let i = this.lineCount; i < lines.length; i++) this.plot.addSeries(this.seriesFor(lines[i]));
    this.lineCount = Math.max(this.lineCount, lines.length);
  }

  update(table: AlignedTable, marks: EpochMark[] = []): void {
    this.marks = marks;
    const columns = table.columns.slice(0, this.lineCount);
    while (columns.length < this.lineCount) columns.push(table.x.map(() => null));
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
