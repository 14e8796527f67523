/**
 * How a step's gradient buffer is cut into buckets, each all-reduced as its own operation, so that
 * the last layers' gradients can travel while the backward pass still computes the first ones'.
 *
 * Note [Bucket plan]
 * The plan depends only on the model's weight layout and the run's bucket size, so every rank
 * derives the same one. Buckets are reduced one after another in plan order, whether a rank starts
 * each as soon as its gradients exist (overlapped) or all after the backward pass: which rank sums
 * an element, and in what order, follows from the plan alone, never from when a bucket started.
 * Overlap therefore changes no bit of the sum. The order is the backward pass's: the buffer's
 * tail first (the last layers, then the non-trainable state that follows them in the buffer).
 */
import { GradsyncError } from '@gradsync/core';

/** Operations a plan may hold: each bucket takes one of its step's sub-operation ids (@gradsync/collective's SUB_OPERATIONS_PER_STEP). */
export const MAX_BUCKETS = 64;

/** Elements [start, end) of the buffer, and the slots (weights) whose gradients fill them. */
export interface Bucket {
  readonly start: number;
  readonly end: number;
  /** Indices into the slot list the plan was made from; empty for a bucket of state alone. */
  readonly slots: readonly number[];
}

/**
 * Cuts a buffer of consecutive slots (`slotSizes`, in buffer order) followed by `tailElements`
 * of other values (the non-trainable state, known before the backward pass starts) into buckets of
 * whole slots of at least `bucketElements` each, from the end of the buffer towards its start.
 * The first bucket also takes the tail. When that would make more than MAX_BUCKETS buckets, the
 * bucket size grows until it does not.
 */
export function planBuckets(slotSizes: readonly number[], tailElements: number, bucketElements: number): Bucket[] {
  if (!Number.isInteger(bucketElements) || bucketElements < 1) {
    throw new GradsyncError('E_ALLREDUCE_ARG', `bucket size must be a positive whole number of elements, got ${bucketElements}`);
  }
  for (const size of [...slotSizes, tailElements]) {
    if (!Number.isInteger(size) || size < 0) throw new GradsyncError('E_ALLREDUCE_ARG', `slot sizes must be whole numbers ≥ 0, got ${size}`);
  }
  const total = slotSizes.reduce((a, b) => a + b, 0) + tailElements;
  const size = Math.max(bucketElements, Math.ceil(total / MAX_BUCKETS));
  const buckets: Bucket[] = [];
  let end = total;
  let start = total - tailElements;
  let slots: number[] = [];
  for (let i = slotSizes.length - 1; i >= 0; i--) {
    start -= slotSizes[i];
    slots.push(i);
    if (end - start >= size) {
      buckets.push({ start, end, slots });
      end = start;
      slots = [];
    }
  }
  if (end > 0 || buckets.length === 0) {
    // What is left is smaller than a bucket: it joins the previous one rather than travel alone.
    const last = buckets.pop();
    buckets.push(last ? { start: 0, end: last.end, slots: [...last.slots, ...slots] } : { start: 0, end, slots });
  }
  return buckets;
}
