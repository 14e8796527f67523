/** What the training step needs from a reduction: the element-wise sum over all ranks, same bytes everywhere. */
export interface AllReducer {
  readonly algorithm: 'ring' | 'star';
  allReduceSum(data: Float32Array, opId: number): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Identity reduction for a group of one. */
export const soloReducer: AllReducer = {
  algorithm: 'star',
  allReduceSum: async (data) => data,
  close: async () => {},
};
