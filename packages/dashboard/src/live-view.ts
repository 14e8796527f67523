import type { MetricRecord } from '@gradsync/metrics';
import { h } from './view-kit/dom';
import { connectFeed, feedUrl, type FeedStatus } from './view-kit/feed-client';
import { FrameScheduler } from './frame-scheduler';
import { fetchJoinOffer } from './join/join-offer';
import { JoinPanel } from './join/join-panel';
import { ChartsPanel } from './panels/charts-panel';
import { ConfigPanel } from './panels/config-panel';
import { ConfusionPanel } from './panels/confusion-panel';
import { Header } from './panels/header';
import { PreviewPanel } from './panels/preview-panel';
import { ProgressPanel } from './panels/progress-panel';
import { StatusPanel } from './panels/status-panel';
import { WorkerTable } from './panels/worker-table';
import { RunState } from './view-kit/run-state';

/** The one-run view: the live feed of a coordinator or of `pnpm dashboard runs/<name>`. */
export function startLiveView(): void {
  const state = new RunState();
  const header = new Header();
  const progress = new ProgressPanel();
  const charts = new ChartsPanel(() => scheduler.request(true));
  const workers = new WorkerTable();
  const confusion = new ConfusionPanel();
  const preview = new PreviewPanel();
  const config = new ConfigPanel();
  const status = new StatusPanel();

  // A refused feed will not mend itself: the page says why and what to do, above everything else.
  const refusal = h('div', { class: 'feed-refused', testId: 'feed-refused', attrs: { role: 'alert' } });
  refusal.hidden = true;

  document
    .getElementById('app')!
    .replaceChildren(
      header.root,
      refusal,
      h('main', { class: 'grid' }, progress.root, charts.root, workers.root, confusion.root, preview.root, config.root, status.root),
    );

  // Shown only when the coordinator takes browser workers (--browser-workers), beside the worker table.
  void fetchJoinOffer().then((offer) => {
    if (offer.allowed) workers.root.after(new JoinPanel(offer).root);
  });

  let tick = false;
  let connection: FeedStatus = 'connecting';

  const scheduler = new FrameScheduler((chartsDue) => {
    const dirty = state.takeDirty();
    const now = Date.now();
    const classNames = state.run?.classNames ?? [];
    if (dirty.size || tick) header.setRun(state.run?.runName ?? null, state.records);
    if (dirty.has('run')) config.update(state.run);
    if (dirty.has('workers') || dirty.has('end') || tick) workers.update(state.workerViews(), now, state.end !== null, state.straggler);
    if (dirty.has('steps') || dirty.has('epochs') || dirty.has('run') || dirty.has('end') || tick) progress.update(state, now);
    if (dirty.has('epochs') || dirty.has('run')) confusion.update(state.latestEval, classNames);
    if (dirty.has('preview') || dirty.has('run')) preview.update(state.preview, classNames, state.run?.validationCount);
    if (dirty.has('messages')) status.updateMessages(state.messages);
    if (dirty.has('end')) {
      status.updateEnd(state.end);
      header.setConnection(state.end ? 'ended' : connection);
    }
    if (chartsDue) charts.update(state);
    tick = false;
    if (state.run) {
      const p = state.progressInput();
      document.title = `${state.run.runName}${p ? ` · epoch ${p.epochIndex + 1}` : ''} · gradsync`;
    }
  });

  const chartKinds = new Set<MetricRecord['kind']>(['run', 'step', 'epoch', 'end']);

  connectFeed(feedUrl(location), {
    onHistory(records) {
      state.reset();
      for (const r of records) state.apply(r);
      scheduler.request(true);
    },
    onRecord(record) {
      state.apply(record);
      scheduler.request(chartKinds.has(record.kind));
    },
    onStatus(s, detail) {
      connection = s;
      refusal.hidden = s !== 'refused';
      if (s === 'refused') refusal.textContent = detail ?? "The coordinator refused this page's live feed.";
      header.setConnection(state.end && s === 'live' ? 'ended' : s, detail);
    },
  });

  // Heartbeat ages and elapsed time move on their own.
  setInterval(() => {
    tick = true;
    scheduler.request();
  }, 1000);
}
