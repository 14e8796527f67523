import { describe, expect, it } from 'vitest';
import { SUB_OPERATIONS_PER_STEP, subOperationId } from './sub-operation';
import { StarPart } from '@gradsync/protocol';

describe('subOperationId', () => {
  it("gives every (step operation, index) its own id in [2^30, 2^31): above the steps' own ids, within the protocol's op field", () => {
    const ids = new Set<number>();
    for (let op = 1; op <= 200; op++) for (let i = 0; i < SUB_OPERATIONS_PER_STEP; i++) ids.add(subOperationId(op, i));
    expect(ids.size).toBe(200 * SUB_OPERATIONS_PER_STEP);
    for (const id of ids) {
      expect(id).toBeGreaterThanOrEqual(2 ** 30);
      expect(id).toBeLessThan(2 ** 31);
      expect(StarPart.safeParse({ type: 'star-part', op: id, data: new Uint8Array(4) }).success).toBe(true);
    }
    expect(subOperationId(1, 0)).toBe(2 ** 30 + 64);
  });

  it('refuses an index outside the step’s 64', () => {
    expect(() => subOperationId(1, 64)).toThrow('sub-operation index must be an integer in 0..63, got 64');
    expect(() => subOperationId(1, -1)).toThrow(/got -1/);
  });
});
