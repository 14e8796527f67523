import { describe, expect, it } from 'vitest';
import { decodePreview, previewPlaceholder } from './preview';

describe('decodePreview', () => {
  it('turns HWC RGB bytes into RGBA images with labels', () => {
    const bytes = new Uint8Array(2 * 32 * 32 * 3);
    bytes.set([10, 20, 30], 0); // image 0, pixel 0
    bytes.set([200, 100, 50], 32 * 32 * 3 + 3 * 5); // image 1, pixel 5
    const b64 = Buffer.from(bytes).toString('base64');
    const imgs = decodePreview(b64, [3, 5], [3, 1], [0.9, 0.4]);
    expect(imgs).toHaveLength(2);
    expect(Array.from(imgs[0].rgba.slice(0, 4))).toEqual([10, 20, 30, 255]);
    expect(Array.from(imgs[1].rgba.slice(20, 24))).toEqual([200, 100, 50, 255]);
    expect(imgs[0].correct).toBe(true);
    expect(imgs[1].correct).toBe(false);
    expect(imgs[1].confidence).toBe(0.4);
  });

  it('stops at the pixels it has', () => {
    const b64 = Buffer.from(new Uint8Array(32 * 32 * 3)).toString('base64');
    expect(decodePreview(b64, [1, 2, 3], [1, 2, 3], [1, 1, 1])).toHaveLength(1);
  });
});

describe('previewPlaceholder', () => {
  it('says samples are coming, unless the run has no validation split, which it names', () => {
    expect(previewPlaceholder(undefined)).toMatch(/appear after the first evaluation/);
    expect(previewPlaceholder(5000)).toMatch(/appear after the first evaluation/);
    expect(previewPlaceholder(0)).toMatch(/^This run holds out no validation images \(--validation 0\)/);
  });
});

describe('previews of other data sets', () => {
  it('draws a greyscale image of its own size, its one channel as R = G = B', () => {
    // Two 3 × 2 greyscale images: pixel values 0..5 and 10..15.
    const bytes = Uint8Array.from([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);
    const base64 = btoa(String.fromCharCode(...bytes));
    const [first, second] = decodePreview(base64, [0, 1], [0, 0], [0.9, 0.6], { height: 2, width: 3, channels: 1 });
    expect([first!.width, first!.height, first!.rgba.length]).toEqual([3, 2, 24]);
    expect(Array.from(second!.rgba.subarray(4, 8))).toEqual([11, 11, 11, 255]);
    expect(second!.correct).toBe(false);
  });
});
