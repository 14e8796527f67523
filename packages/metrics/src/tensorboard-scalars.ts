import type { MetricRecord } from './records';
import type { Scalar } from './tfevents';

export interface ScalarPoint {
  /** Seconds since the Unix epoch, as TensorBoard's wall_time. */
  wallTime: number;
  /** The global training step; epoch figures sit at the step that ended the epoch, so every chart shares one x axis. */
  step: number;
  scalars: Scalar[];
}

/** The TensorBoard scalars of one metric record (none for records without figures). */
export function tensorBoardScalars(record: MetricRecord): ScalarPoint | null {
  const wallTime = record.t / 1000;
  switch (record.kind) {
    case 'step':
      return {
        wallTime,
        step: record.step,
        scalars: [
          { tag: 'step/loss', value: record.loss },
          { tag: 'step/accuracy', value: record.accuracy },
          { tag: 'step/lr', value: record.lr },
          { tag: 'step/images_per_sec', value: record.imagesPerSec },
        ],
      };
    case 'epoch': {
      const scalars: Scalar[] = [
        { tag: 'epoch/loss', value: record.trainLoss },
        { tag: 'epoch/accuracy', value: record.trainAccuracy },
        { tag: 'epoch/lr', value: record.lr },
        { tag: 'epoch/images_per_sec', value: record.imagesPerSec },
      ];
      if (record.validation)
        scalars.push({ tag: 'epoch/val_loss', value: record.validation.loss }, { tag: 'epoch/val_accuracy', value: record.validation.accuracy });
      if (record.test) scalars.push({ tag: 'epoch/test_loss', value: record.test.loss }, { tag: 'epoch/test_accuracy', value: record.test.accuracy });
      return { wallTime, step: record.step, scalars };
    }
    case 'end':
      return record.test
        ? {
            wallTime,
            step: record.steps,
            scalars: [
              { tag: 'final/test_loss', value: record.test.loss },
              { tag: 'final/test_accuracy', value: record.test.accuracy },
            ],
          }
        : null;
    default:
      return null;
  }
}
