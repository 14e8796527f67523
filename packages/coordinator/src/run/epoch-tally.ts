/** Running sums of one epoch's completed steps. */
export class EpochTally {
  lossSum = 0;
  correct = 0;
  seen = 0;
  readonly started = performance.now();
  constructor(readonly epoch: number) {}
}
