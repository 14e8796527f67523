/**
 * Ids for the reductions a training step makes before its gradient all-reduce (synchronised
 * BatchNorm's statistics). Step operations count up from 1 and stay below 2^30; these live in
 * [2^30, 2^31), 64 per step, so the two never meet, the protocol's op field (at most 2^31) takes
 * them, and every rank derives the same id from (step operation, index).
 */
export const SUB_OPERATIONS_PER_STEP = 64;
const FIRST_SUB_OPERATION = 2 ** 30;

export function subOperationId(stepOp: number, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= SUB_OPERATIONS_PER_STEP) {
    throw new RangeError(`sub-operation index must be an integer in 0..${SUB_OPERATIONS_PER_STEP - 1}, got ${index}`);
  }
  return FIRST_SUB_OPERATION + ((stepOp * SUB_OPERATIONS_PER_STEP + index) % FIRST_SUB_OPERATION);
}
