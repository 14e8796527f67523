import path from 'node:path';
import { EpochsCsvWriter } from './epochs-csv';
import { JsonlWriter } from './jsonl';
import type { MetricRecord } from './records';
import { TensorBoardWriter } from './tensorboard-writer';

/** Something that keeps metric records somewhere (a file, a socket). */
export interface MetricsWriter {
  append(record: MetricRecord): void;
}

/**
 * A run's metric files, each record fanned out to all of them:
 *   runs/<name>/metrics.jsonl   every record (the dashboard's source)
 *   runs/<name>/epochs.csv      one row an epoch (Keras CSVLogger columns and more)
 *   runs/<name>/tb/             TensorBoard event files
 * `history`: the records already in metrics.jsonl when a run resumes; they are not written
 * again, but epochs.csv is rebuilt from them and TensorBoard is told the run restarted.
 */
export class RunMetricsFiles implements MetricsWriter {
  private readonly writers: MetricsWriter[];

  constructor(
    readonly runDir: string,
    history: readonly MetricRecord[] = [],
  ) {
    this.writers = [
      new JsonlWriter(path.join(runDir, 'metrics.jsonl')),
      new EpochsCsvWriter(path.join(runDir, 'epochs.csv'), history),
      new TensorBoardWriter(path.join(runDir, 'tb'), { resumed: history.length > 0 }),
    ];
  }

  append(record: MetricRecord): void {
    for (const w of this.writers) w.append(record);
  }
}
