/** Publishing the run's records (metrics.jsonl, dashboard): worker table rows, and a step's record held back until the next orders are out. */
import { WriteFailure } from '@gradsync/core/node';
import type { MetricRecord } from '@gradsync/metrics';
import type { Member } from './member';

export interface MetricsSink {
  publish(record: MetricRecord): void;
}

export class RunRecorder {
  /** The last step's record and progress line, published once the next orders are out (Note [Orders first]). */
  private afterOrders: (() => void) | null = null;

  constructor(
    private readonly metrics: MetricsSink,
    /** A failed write: the run stops at its next wait, not the process. */
    private readonly onWriteFailure: (err: WriteFailure) => void,
  ) {}

  /** Holds `publish` (a finished step's bookkeeping) until the next orders are sent (Note [Orders first]). */
  afterNextOrders(publish: () => void): void {
    this.afterOrders = publish;
  }

  /**
   * Note [Orders first]
   * Between two steps every worker idles until the next step's orders arrive, so a finished
   * step's bookkeeping (its record into metrics.jsonl, TensorBoard and the dashboard; the progress
   * line) waits in `afterOrders` until the next orders are sent. Any other record, and every
   * stop of the progress line, publishes it first, so records keep their order.
   */
  flushAfterOrders(): void {
    const publish = this.afterOrders;
    this.afterOrders = null;
    publish?.();
  }

  /**
   * Publishes a record (metrics.jsonl, dashboard). Records are also written from socket events,
   * outside the run loop: a failed write there stops the run at its next wait, not the process.
   */
  record(r: MetricRecord): void {
    this.flushAfterOrders();
    try {
      this.metrics.publish(r);
    } catch (err) {
      if (!(err instanceof WriteFailure)) throw err;
      this.onWriteFailure(err);
    }
  }

  recordWorker(w: Member, status: 'joining' | 'training' | 'gone', reason?: string): void {
    const h = w.hello;
    if (!h) return;
    this.record({
      kind: 'worker',
      t: Date.now(),
      rank: w.rank,
      host: h.host,
      pid: h.pid,
      backend: h.backend,
      device: h.device,
      status,
      ...(reason === undefined ? {} : { reason }),
    });
  }
}
