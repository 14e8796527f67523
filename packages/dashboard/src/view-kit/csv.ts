import type { AlignedTable } from './align';

/** One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A chart's table as CSV: a header of the x label and the line labels, then one row per x (empty cell = no point). */
export function tableToCsv(xLabel: string, labels: readonly string[], table: AlignedTable): string {
  const lines = [[xLabel, ...labels].map(csvCell).join(',')];
  table.x.forEach((x, i) => lines.push([x, ...labels.map((_, c) => table.columns[c]?.[i] ?? null)].map(csvCell).join(',')));
  return `${lines.join('\n')}\n`;
}

/** "Loss" + "step" → "loss-by-step.csv": a file name that says what the chart was. */
export function csvFileName(title: string, xLabel: string): string {
  const slug = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
  return `${slug(title)}-by-${slug(xLabel)}.csv`;
}
