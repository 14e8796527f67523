import { describe, expect, it } from 'vitest';
import { csvCell, csvFileName, tableToCsv } from './csv';

describe('csv', () => {
  it('quotes only cells that need it', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(null)).toBe('');
    expect(csvCell(0.25)).toBe('0.25');
  });

  it('writes a header and one row per x, empty where a line has no point', () => {
    const csv = tableToCsv('step', ['run a', 'run, b'], {
      x: [0, 5],
      columns: [
        [1.5, null],
        [null, 2],
      ],
    });
    expect(csv).toBe('step,run a,"run, b"\n0,1.5,\n5,,2\n');
  });

  it('names the file after the chart and its x axis', () => {
    expect(csvFileName('Loss (smoothed)', 'wall time (s)')).toBe('loss-smoothed-by-wall-time-s.csv');
  });
});
