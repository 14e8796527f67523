import { bytesPerImage, type CifarSplit, shardsOfCounts } from '@gradsync/data';
import type { EvalSummary, PreviewRecord } from '@gradsync/metrics';
import { addEvalSums, evalSummary } from '@gradsync/train';
import type { Member } from './member';
import type { Gathered, ReplyCollector, WorkerMessageOf } from './reply-collector';

/** Validation images shown with their predictions after each validation. */
const PREVIEW_COUNT = 16;

/** Evenly spread indices of `count` images, at most PREVIEW_COUNT of them. */
export function previewIndices(count: number): number[] {
  const n = Math.min(PREVIEW_COUNT, count);
  return Array.from({ length: n }, (_, i) => Math.floor((i * count) / n));
}

export type EvaluationResult = { ok: true; summary: EvalSummary; preview: Omit<PreviewRecord, 'kind' | 't' | 'epoch'> | null } | { ok: false; reason: string };

/**
 * Sharded evaluation: each rank takes a contiguous range of the split (`counts[rank]` images:
 * the run's --split, so a slow worker does not hold the epoch's end back either) and answers
 * with sums, which add up exactly; rank 0 also predicts the preview images of the validation split.
 */
export async function evaluateSharded(
  replies: ReplyCollector,
  members: readonly Member[],
  request: { evalId: number; split: 'validation' | 'test'; count: number; counts: readonly number[]; previewFrom: CifarSplit | null; deadlineMs: number },
): Promise<EvaluationResult> {
  const previewIdx = request.previewFrom ? previewIndices(request.count) : [];
  const answers = replies.gather(['eval-done'], (m) => m.evalId === request.evalId, members, request.deadlineMs);
  const shards = shardsOfCounts(request.count, request.counts);
  for (const w of members) {
    const { start, end } = shards[w.rank];
    w.send({ type: 'eval', evalId: request.evalId, split: request.split, start, end, preview: w.rank === 0 && previewIdx.length ? previewIdx : undefined });
  }
  const got: Gathered<WorkerMessageOf<'eval-done'>> = await answers;
  if (!got.ok) return got;
  const byRank = [...got.answers.entries()].map(([member, m]) => [member.rank, m] as const);
  const summary = evalSummary(addEvalSums(byRank.map(([, m]) => m)));
  const predicted = byRank.find(([rank]) => rank === 0)?.[1].preview;
  const source = request.previewFrom;
  if (!predicted || !source || previewIdx.length === 0) return { ok: true, summary, preview: null };
  const image = bytesPerImage(source);
  const pixels = Buffer.alloc(previewIdx.length * image);
  previewIdx.forEach((j, i) => pixels.set(source.images.subarray(j * image, (j + 1) * image), i * image));
  return {
    ok: true,
    summary,
    preview: {
      pixelsBase64: pixels.toString('base64'),
      labels: previewIdx.map((j) => source.labels[j]!),
      predictions: predicted.predictions,
      confidences: predicted.confidences,
    },
  };
}
