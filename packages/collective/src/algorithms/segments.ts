/**
 * Segmenting a chunk into fixed-size pieces so that sending, receiving and adding overlap:
 * a rank forwards segment i of a chunk as soon as it has combined it, while segment i+1 is
 * still on the wire.
 */
import { GradsyncError } from '@gradsync/core';
import type { ElementRange } from './ring-schedule';

function checkSegmentElements(segmentElements: number): void {
  if (!Number.isInteger(segmentElements) || segmentElements < 1) {
    throw new GradsyncError('E_ALLREDUCE_ARG', `segment size must be a positive integer number of elements, got ${segmentElements}`);
  }
}

/** Number of segments of a chunk of `chunkLength` elements (0 for an empty chunk). */
export function segmentCount(chunkLength: number, segmentElements: number): number {
  checkSegmentElements(segmentElements);
  return Math.ceil(chunkLength / segmentElements);
}

/** Element range of segment `index` of `chunk`: all full-size but the last. */
export function segmentRange(chunk: ElementRange, index: number, segmentElements: number): ElementRange {
  checkSegmentElements(segmentElements);
  const start = chunk.start + index * segmentElements;
  if (!Number.isInteger(index) || index < 0 || start >= chunk.end) {
    throw new GradsyncError('E_ALLREDUCE_ARG', `segment ${index} is outside the chunk [${chunk.start}, ${chunk.end})`);
  }
  return { start, end: Math.min(chunk.end, start + segmentElements) };
}

/** All segments of `chunk`, in order. */
export function segmentBounds(chunk: ElementRange, segmentElements: number): ElementRange[] {
  const n = segmentCount(chunk.end - chunk.start, segmentElements);
  const out: ElementRange[] = [];
  for (let i = 0; i < n; i++) out.push(segmentRange(chunk, i, segmentElements));
  return out;
}

/** Float32 elements in a segment of `bytes` bytes (rounded down, at least 1). */
export function segmentElementsForBytes(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes < 4) {
    throw new GradsyncError('E_ALLREDUCE_ARG', `segment size must be at least 4 bytes, got ${bytes}`);
  }
  return Math.floor(bytes / 4);
}
