import { describe, expect, it } from 'vitest';
import { CLOSE, closeReason, isRefusal } from './close';

describe('close codes', () => {
  it('a refusal is final (token, full, over, protocol or policy), a lost link or a normal end is not', () => {
    for (const code of [CLOSE.wrongToken, CLOSE.runFull, CLOSE.runOver, CLOSE.protocolError, CLOSE.policy, CLOSE.tooBig, CLOSE.unsupportedData])
      expect(isRefusal(code)).toBe(true);
    for (const code of [CLOSE.normal, CLOSE.goingAway, CLOSE.internal, 1006, 4999]) expect(isRefusal(code)).toBe(false);
  });
});

describe('closeReason', () => {
  it('keeps at most 123 UTF-8 bytes and never splits a character', () => {
    expect(closeReason('short')).toBe('short');
    for (const ch of ['a', 'é', '€', '😀']) {
      const r = closeReason(ch.repeat(200));
      expect(Buffer.byteLength(r)).toBeLessThanOrEqual(123);
      expect(r.endsWith('...')).toBe(true);
      expect(r).not.toMatch(/\uFFFD/);
      expect(Buffer.from(r).toString()).toBe(r);
    }
  });

  it('drops a high surrogate the cut would leave alone', () => {
    // 117 ASCII bytes then an emoji: cutting to 120 bytes leaves its high half alone (3 bytes as U+FFFD).
    const r = closeReason(`${'a'.repeat(117)}😀${'b'.repeat(50)}`);
    expect(r).toBe(`${'a'.repeat(117)}...`);
  });
});
