import { describe, expect, it } from 'vitest';
import { intOption } from './run-config-options';
import { intListOption, threadsPerProcess } from './threads';

describe('threadsPerProcess', () => {
  it('shares the cores out, rounding down, at least one each', () => {
    expect(threadsPerProcess(1, 8)).toBe(8);
    expect(threadsPerProcess(2, 8)).toBe(4);
    expect(threadsPerProcess(3, 8)).toBe(2);
    expect(threadsPerProcess(4, 2)).toBe(1);
    expect(threadsPerProcess(0, 2)).toBe(2);
  });
  it("defaults to this machine's cores", () => {
    expect(threadsPerProcess(1)).toBeGreaterThanOrEqual(1);
  });
});

describe('--threads parsing', () => {
  it('one count: a positive integer', () => {
    expect(intOption('--threads', 1)('3')).toBe(3);
    expect(() => intOption('--threads', 1)('0')).toThrow('--threads must be an integer ≥ 1, got "0"');
    expect(() => intOption('--threads', 1)('abc')).toThrow('--threads must be an integer ≥ 1, got "abc"');
  });
  it('a list: positive integers, duplicates dropped, order kept', () => {
    const parse = intListOption('--threads');
    expect(parse('1,2')).toEqual([1, 2]);
    expect(parse(' 4, 1 ,4')).toEqual([4, 1]);
    for (const bad of ['', '0', '1,', 'a,2', '1.5', '-1']) {
      expect(() => parse(bad), bad).toThrow(`--threads must be a comma-separated list of integers ≥ 1, got "${bad}"`);
    }
  });
});
