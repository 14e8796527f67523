import { describe, expect, it } from 'vitest';
import { mapCoord, projectiveTransform } from './transform';

describe('Transform (TensorFlow semantics)', () => {
  it('reflects coordinates outside the image like [dcba|abcd|dcba]', () => {
    expect(mapCoord(-1.5, 4, 'reflect')).toBe(0.5);
    expect(mapCoord(-1, 4, 'reflect')).toBe(0);
    expect(mapCoord(4.5, 4, 'reflect')).toBe(2.5);
    expect(mapCoord(-9, 4, 'reflect')).toBe(0); // period 8: -9 is -1
    expect(mapCoord(-1.5, 4, 'nearest')).toBe(0);
    expect(mapCoord(-1.5, 4, 'constant')).toBe(-1.5);
  });

  it('zooms out a row with reflect fill and gives each image its own transform', () => {
    const row = Float32Array.from([0, 1, 2, 3, 10, 11, 12, 13]);
    const out = new Float32Array(8);
    const zoomOut = [2, 0, -1.5, 0, 1, 0, 0, 0];
    const identity = [1, 0, 0, 0, 1, 0, 0, 0];
    projectiveTransform(
      row,
      [2, 1, 4, 1],
      Float32Array.from([...zoomOut, ...identity]),
      { interpolation: 'bilinear', fillMode: 'reflect', fillValue: 0, outHeight: 1, outWidth: 4 },
      out,
    );
    expect(Array.from(out.subarray(0, 4))).toEqual([0.5, 0.5, 2.5, 2.5]);
    expect(Array.from(out.subarray(4))).toEqual([10, 11, 12, 13]);
  });
});
