import { describe, expect, it } from 'vitest';
import { formatAgo, formatBytes, formatDuration, formatNumber, formatPercent } from './format';

describe('format', () => {
  it('formatAgo', () => {
    expect(formatAgo(200)).toBe('now');
    expect(formatAgo(3_400)).toBe('3 s ago');
    expect(formatAgo(125_000)).toBe('2 min ago');
    expect(formatAgo(7_300_000)).toBe('2 h ago');
    expect(formatAgo(-5)).toBe('now');
  });

  it('formatDuration', () => {
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(185)).toBe('3m 05s');
    expect(formatDuration(3720)).toBe('1h 02m');
    expect(formatDuration(null)).toBe('—');
  });

  it('formatPercent and formatNumber', () => {
    expect(formatPercent(0.7843)).toBe('78.4%');
    expect(formatPercent(null)).toBe('—');
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(0.51234)).toBe('0.5123');
    expect(formatNumber(0.0001)).toBe('1.00e-4');
    expect(formatNumber(Number.NaN)).toBe('—');
  });

  it('formats byte counts in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(812 * 2 ** 20)).toBe('812 MiB');
    expect(formatBytes(1.44 * 2 ** 30)).toBe('1.4 GiB');
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(-1)).toBe('—');
  });
});
