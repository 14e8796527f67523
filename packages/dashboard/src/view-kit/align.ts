/** A table uPlot can draw: one ascending x column and y columns of the same length (null = no point). */
export interface AlignedTable {
  x: number[];
  columns: (number | null)[][];
}

/**
 * Merges two tables on x (both ascending) into one: rows with equal x share a row, the other
 * table's columns are null where it has no point. Used to put per-epoch validation points on the
 * per-step chart.
 */
export function mergeOnX(a: AlignedTable, b: AlignedTable): AlignedTable {
  const x: number[] = [];
  const columns: (number | null)[][] = [...a.columns, ...b.columns].map(() => []);
  const na = a.columns.length;
  let i = 0;
  let j = 0;
  while (i < a.x.length || j < b.x.length) {
    const takeA = i < a.x.length && (j >= b.x.length || a.x[i] <= b.x[j]);
    const takeB = j < b.x.length && (i >= a.x.length || b.x[j] <= a.x[i]);
    x.push(takeA ? a.x[i] : b.x[j]);
    for (let c = 0; c < na; c++) columns[c].push(takeA ? a.columns[c][i] : null);
    for (let c = 0; c < b.columns.length; c++) columns[na + c].push(takeB ? b.columns[c][j] : null);
    if (takeA) i++;
    if (takeB) j++;
  }
  return { x, columns };
}
