import { ChartData } from '../view-kit/chart-data';
import { card, h } from '../view-kit/dom';
import { formatNumber } from '../view-kit/format';
import type { RunState } from '../view-kit/run-state';
import { LineChart, type LineSpec } from './line-chart';

const TRAIN_RAW = 'rgba(37, 99, 235, 0.22)';
const TRAIN = '#2563eb';
const VALIDATION = '#ea580c';
const GLOBAL = '#111827';
export const WORKER_COLORS = ['#0891b2', '#db2777', '#65a30d', '#7c3aed', '#d97706', '#0d9488', '#9333ea', '#b91c1c'];
const SMOOTHING_KEY = 'gradsync.smoothing';

const percent = (v: number) => `${Number((v * 100).toFixed(1))}%`;

/** Loss, accuracy, throughput and learning-rate charts, with the smoothing slider they share. */
export class ChartsPanel {
  readonly root: HTMLElement;
  private readonly data = new ChartData();
  private readonly loss: LineChart;
  private readonly accuracy: LineChart;
  private readonly throughput: LineChart;
  private readonly lr: LineChart;
  private readonly slider: HTMLInputElement;
  private readonly sliderValue: HTMLElement;
  private smoothing: number;
  private workerLines = 0;

  constructor(onSmoothingChange: () => void) {
    const saved = Number(localStorage.getItem(SMOOTHING_KEY));
    this.smoothing = Number.isFinite(saved) && saved >= 0 && saved < 1 && localStorage.getItem(SMOOTHING_KEY) !== null ? saved : 0.6;
    this.slider = h('input', { testId: 'smoothing-slider', attrs: { type: 'range', min: '0', max: '0.99', step: '0.01', 'aria-label': 'smoothing' } });
    this.slider.value = String(this.smoothing);
    this.sliderValue = h('span', { class: 'slider-value', text: this.smoothing.toFixed(2) });
    this.slider.addEventListener('input', () => {
      this.smoothing = Number(this.slider.value);
      this.sliderValue.textContent = this.smoothing.toFixed(2);
      localStorage.setItem(SMOOTHING_KEY, String(this.smoothing));
      onSmoothingChange();
    });

    const trainVal = (what: string): LineSpec[] => [
      { label: `train ${what}`, color: TRAIN_RAW, width: 1 },
      { label: 'smoothed', color: TRAIN, width: 2 },
      { label: `validation ${what}`, color: VALIDATION, width: 2, points: true },
    ];
    const sync = 'steps';
    this.loss = new LineChart({ title: 'Loss', testId: 'loss-chart', lines: trainVal('loss'), syncKey: sync, yFormat: formatNumber });
    this.accuracy = new LineChart({ title: 'Accuracy', testId: 'accuracy-chart', lines: trainVal('acc'), syncKey: sync, yFormat: percent, yBounds: [0, 1] });
    this.throughput = new LineChart({
      title: 'Throughput (img/s, smoothed)',
      testId: 'throughput-chart',
      lines: [{ label: 'global', color: GLOBAL, width: 2 }],
      syncKey: sync,
      yFormat: formatNumber,
      yBounds: [0, Infinity],
    });
    this.lr = new LineChart({
      title: 'Learning rate',
      testId: 'lr-chart',
      lines: [{ label: 'lr', color: '#16a34a', width: 2 }],
      syncKey: sync,
      logY: true,
      yFormat: (v) => v.toExponential(0),
      height: 160,
    });
    this.loss.root.dataset.points = '0';

    const c = card('Training curves', 'training-curves', 'span-2');
    c.aside.append(h('label', { class: 'slider' }, 'Smoothing', this.slider, this.sliderValue));
    c.body.append(h('div', { class: 'chart-grid' }, this.loss.root, this.accuracy.root, this.throughput.root, this.lr.root));
    this.root = c.root;
  }

  update(state: RunState): void {
    const w = this.smoothing;
    const loss = this.data.lossTable(state, w);
    this.loss.update(loss.table, loss.epochMarks);
    this.loss.root.dataset.points = String(loss.trainPoints);
    this.loss.root.dataset.steps = String(state.steps.step.length);
    const acc = this.data.accuracyTable(state, w);
    this.accuracy.update(acc.table, acc.epochMarks);
    const tp = this.data.throughputTable(state, w);
    if (tp.ranks.length > this.workerLines) {
      this.throughput.ensureLines([
        { label: 'global', color: GLOBAL },
        ...tp.ranks.map((rank, i) => ({ label: `rank ${rank}`, color: WORKER_COLORS[i % WORKER_COLORS.length] })),
      ]);
      this.workerLines = tp.ranks.length;
    }
    this.throughput.update(tp.table, loss.epochMarks);
    this.lr.update(this.data.lrTable(state), loss.epochMarks);
  }
}
