import type { MetricRecord, MetricsWriter } from '@gradsync/metrics';

export interface MetricsFeedOptions {
  /** Where every published record is kept (RunMetricsFiles: metrics.jsonl, epochs.csv, tb/). */
  writer?: MetricsWriter;
  /** Records known before this feed (read back from a metrics.jsonl); kept in memory, not written again. */
  history?: readonly MetricRecord[];
}

export type RecordListener = (record: MetricRecord) => void;

/**
 * The run's metric records: all kept in memory (the dashboard's history), optionally written
 * to the run's metric files, and handed to subscribers as they are published.
 */
export class MetricsFeed {
  private readonly all: MetricRecord[];
  private readonly listeners = new Set<RecordListener>();
  private readonly writer: MetricsWriter | null;

  constructor(options: MetricsFeedOptions = {}) {
    this.all = [...(options.history ?? [])];
    this.writer = options.writer ?? null;
  }

  /** Every record so far, oldest first. */
  get records(): readonly MetricRecord[] {
    return this.all;
  }

  /** Keeps the record, writes it to the metric files (synchronously), then tells subscribers. */
  publish(record: MetricRecord): void {
    this.all.push(record);
    this.writer?.append(record);
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch {
        // A failing subscriber (a dashboard socket) must not stop training.
      }
    }
  }

  /** Calls `listener` for each record published from now on; returns the unsubscribe function. */
  subscribe(listener: RecordListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
