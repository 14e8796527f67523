import type { ValidationCount } from '@gradsync/data/browser';
import { GradsyncError } from '@gradsync/core';

/** Commander argument parsers that fail with a one-line message naming the flag. */
export function intOption(flag: string, min = 0): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || n < min) throw new GradsyncError('E_FLAG', `${flag} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };
}

export function positiveNumberOption(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new GradsyncError('E_FLAG', `${flag} must be a positive number, got "${v}"`);
    return n;
  };
}

/** `--validation`: a count of images, or 'auto'. */
export function validationOption(v: string): ValidationCount {
  if (v.trim() === 'auto') return 'auto';
  const n = Number(v);
  if (!/^\d+$/.test(v.trim())) throw new GradsyncError('E_FLAG', `--validation must be an integer ≥ 0 or "auto", got "${v}"`);
  return n;
}

export function choiceOption<T extends string>(flag: string, choices: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!(choices as readonly string[]).includes(v)) throw new GradsyncError('E_FLAG', `${flag} must be one of ${choices.join(', ')}, got "${v}"`);
    return v as T;
  };
}

export function defaultRunName(prefix = 'run', d = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${prefix}-${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}
