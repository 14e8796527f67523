import type { WorkerStepStats } from '@gradsync/metrics';
import type { StepDoneMsg } from '@gradsync/protocol';

/** One rank's share of a step record, from its step-done answer; resource figures only where the worker sent them. */
export function workerStepStats(rank: number, d: StepDoneMsg, share?: number): WorkerStepStats {
  const stats: WorkerStepStats = {
    rank,
    loss: d.loss,
    correct: d.correct,
    count: d.count,
    computeMs: d.computeMs,
    allreduceMs: d.allreduceMs,
    waitMs: d.waitMs,
  };
  if (share !== undefined) stats.share = share;
  if (d.gradientMs !== undefined) stats.gradientMs = d.gradientMs;
  if (d.cpuPercent !== undefined) stats.cpuPercent = d.cpuPercent;
  if (d.rssBytes !== undefined) stats.rssBytes = d.rssBytes;
  if (d.gpuBytes !== undefined) stats.gpuBytes = d.gpuBytes;
  if (d.sentBytes !== undefined) stats.sentBytes = d.sentBytes;
  if (d.receivedBytes !== undefined) stats.receivedBytes = d.receivedBytes;
  return stats;
}
