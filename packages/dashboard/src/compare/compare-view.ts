import type { RunSummary } from '@gradsync/metrics';
import { card, h } from '../view-kit/dom';
import { formatDuration, formatNumber } from '../view-kit/format';
import { LineChart, type LineSpec } from '../panels/line-chart';
import { overlayTable } from './overlay';
import { type RunCurves, runCurves, X_LABELS, type XAxis } from './run-curves';
import { fetchRunRecords } from './runs-api';
import { RunsTable } from './runs-table';

/** Tableau 10: distinct at a glance, one per run. */
const RUN_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const SMOOTHING_KEY = 'gradsync.compareSmoothing';
const percent = (v: number) => `${Number((v * 100).toFixed(1))}%`;
const X_FORMAT: Record<XAxis, ((v: number) => string) | undefined> = {
  step: undefined,
  epoch: (v) => String(Number(v.toFixed(2))),
  wall: (v) => formatDuration(v),
};

/**
 * `pnpm dashboard runs/`: pick runs, see their loss and accuracy curves overlaid (each run its
 * colour; solid = smoothed training, dashed dots = validation) and a table of their figures.
 */
export function startCompareView(runs: RunSummary[]): void {
  const colorOf = (name: string) =>
    RUN_COLORS[
      Math.max(
        0,
        runs.findIndex((r) => r.name === name),
      ) % RUN_COLORS.length
    ];
  const picked = new Set(runs.map((r) => r.name));
  const curves = new Map<string, Promise<RunCurves>>();
  let xAxis: XAxis = 'step';
  const saved = localStorage.getItem(SMOOTHING_KEY);
  // Runs of thousands of steps need more smoothing than the live view's default to be compared.
  let smoothing = saved !== null && Number(saved) >= 0 && Number(saved) < 1 ? Number(saved) : 0.95;

  const table = new RunsTable();
  const loss = new LineChart({
    title: 'Loss (training smoothed, validation dots)',
    testId: 'compare-loss-chart',
    lines: [],
    syncKey: 'compare',
    yFormat: formatNumber,
    height: 300,
  });
  const accuracy = new LineChart({
    title: 'Accuracy',
    testId: 'compare-accuracy-chart',
    lines: [],
    syncKey: 'compare',
    yFormat: percent,
    yBounds: [0, 1],
    height: 300,
  });
  const status = h('span', { class: 'muted', testId: 'compare-status' });

  const picker = h('div', { class: 'run-picker', testId: 'run-picker' });
  for (const r of runs) {
    const box = h('input', { attrs: { type: 'checkbox', value: r.name } });
    box.checked = true;
    box.addEventListener('change', () => {
      if (box.checked) picked.add(r.name);
      else picked.delete(r.name);
      void redraw();
    });
    const swatch = h('i', { class: 'run-swatch' });
    swatch.style.background = colorOf(r.name);
    picker.append(h('label', { class: 'run-pick', attrs: { 'data-run': r.name } }, box, swatch, r.name));
  }

  const axisSelect = h(
    'select',
    { testId: 'x-axis', attrs: { 'aria-label': 'x axis' } },
    ...(['step', 'epoch', 'wall'] as const).map((x) => h('option', { text: X_LABELS[x], attrs: { value: x } })),
  );
  axisSelect.addEventListener('change', () => {
    xAxis = axisSelect.value as XAxis;
    void redraw();
  });

  const slider = h('input', { testId: 'compare-smoothing', attrs: { type: 'range', min: '0', max: '0.99', step: '0.01', 'aria-label': 'smoothing' } });
  slider.value = String(smoothing);
  const sliderValue = h('span', { class: 'slider-value', text: smoothing.toFixed(2) });
  slider.addEventListener('change', () => {
    smoothing = Number(slider.value);
    sliderValue.textContent = smoothing.toFixed(2);
    localStorage.setItem(SMOOTHING_KEY, String(smoothing));
    void redraw();
  });

  const runsCard = card('Compare runs', 'compare-picker', 'span-2');
  runsCard.aside.append(h('label', { class: 'slider' }, 'Smoothing', slider, sliderValue), h('label', { class: 'slider' }, 'x axis', axisSelect));
  runsCard.body.append(picker);
  const charts = card('Training curves', 'compare-curves', 'span-2');
  charts.body.append(h('div', { class: 'chart-grid' }, loss.root, accuracy.root));

  document
    .getElementById('app')!
    .replaceChildren(
      h(
        'header',
        { class: 'top' },
        h('span', { class: 'brand' }, h('span', { class: 'logo', text: '◆' }), 'gradsync'),
        h('span', { class: 'run-name', text: `${runs.length} runs` }),
        h('span', { class: 'spacer' }),
        status,
      ),
      h('main', { class: 'grid' }, runsCard.root, table.root, charts.root),
    );
  document.title = `compare ${runs.length} runs · gradsync`;

  const curvesOf = (name: string) => {
    let c = curves.get(name);
    if (!c) {
      c = fetchRunRecords(name).then((records) => runCurves(name, records));
      curves.set(name, c);
    }
    return c;
  };

  let drawing = 0;
  async function redraw(): Promise<void> {
    const ticket = ++drawing;
    const names = runs.map((r) => r.name).filter((n) => picked.has(n));
    table.update(
      runs.filter((r) => picked.has(r.name)),
      colorOf,
    );
    status.textContent = 'loading…';
    delete status.dataset.shown;
    let shown: RunCurves[];
    try {
      shown = await Promise.all(names.map(curvesOf));
    } catch (err) {
      status.textContent = `cannot load a run: ${(err as Error).message}`;
      return;
    }
    if (ticket !== drawing) return;
    const lines = shown.flatMap((c): LineSpec[] => [
      { label: c.name, color: colorOf(c.name), width: 2 },
      { label: `${c.name} validation`, color: colorOf(c.name), width: 1, dash: [5, 4], points: true },
    ]);
    for (const [chart, metric] of [
      [loss, 'loss'],
      [accuracy, 'accuracy'],
    ] as const) {
      chart.configure({ lines, xLabel: X_LABELS[xAxis], xFormat: X_FORMAT[xAxis] });
      chart.update(overlayTable(shown, metric, xAxis, smoothing));
    }
    status.textContent = `${names.length} of ${runs.length} runs shown`;
    status.dataset.shown = String(names.length);
  }
  void redraw();
}
