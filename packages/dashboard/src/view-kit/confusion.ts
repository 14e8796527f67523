/** What the confusion-matrix panel shows, derived from EvalSummary.confusion (row = true class, column = predicted). */
export interface ConfusionView {
  /** Number of classes. */
  size: number;
  counts: number[];
  /** Sum of all cells: the number of evaluated images. */
  total: number;
  rowSums: number[];
  /** Each row divided by its sum (0 for an empty row), row-major like `counts`. */
  normalized: number[];
  /** Diagonal over row sum; null for a class with no images. */
  perClassAccuracy: (number | null)[];
  /** Trace over total; null when empty. */
  accuracy: number | null;
}

/** Throws when the cell count is not a square. */
export function confusionView(confusion: readonly number[]): ConfusionView {
  const size = Math.round(Math.sqrt(confusion.length));
  if (size * size !== confusion.length) {
    throw new Error(`a confusion matrix needs a square number of cells, got ${confusion.length}`);
  }
  const rowSums = new Array<number>(size).fill(0);
  let total = 0;
  let trace = 0;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) rowSums[r] += confusion[r * size + c];
    total += rowSums[r];
    trace += confusion[r * size + r];
  }
  const normalized = confusion.map((v, i) => {
    const sum = rowSums[Math.floor(i / size)];
    return sum > 0 ? v / sum : 0;
  });
  const perClassAccuracy = rowSums.map((sum, r) => (sum > 0 ? confusion[r * size + r] / sum : null));
  return { size, counts: [...confusion], total, rowSums, normalized, perClassAccuracy, accuracy: total > 0 ? trace / total : null };
}

/** The largest off-diagonal cells (true → predicted), most frequent first. */
export function topConfusions(view: ConfusionView, limit: number): { actual: number; predicted: number; count: number; rate: number }[] {
  const out: { actual: number; predicted: number; count: number; rate: number }[] = [];
  for (let r = 0; r < view.size; r++) {
    for (let c = 0; c < view.size; c++) {
      const count = view.counts[r * view.size + c];
      if (r !== c && count > 0) out.push({ actual: r, predicted: c, count, rate: view.normalized[r * view.size + c] });
    }
  }
  return out.sort((a, b) => b.count - a.count || a.actual - b.actual).slice(0, limit);
}
