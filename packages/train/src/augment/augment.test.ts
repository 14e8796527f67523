import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { augmentBatch, augmentParamsFor, CROP_FLIP_AUGMENT, cropShift, NO_AUGMENT, SEED_AUGMENT, transformFor } from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function rampImage(h: number, w: number, c: number): tf.Tensor4D {
  const data = new Float32Array(h * w * c);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 251;
  return tf.tensor4d(data, [1, h, w, c]);
}

describe('augmentParamsFor', () => {
  it('is a pure function of (seed, epoch, sample)', () => {
    expect(augmentParamsFor(SEED_AUGMENT, 7, 3, 12345)).toEqual(augmentParamsFor(SEED_AUGMENT, 7, 3, 12345));
    const draws = Array.from({ length: 200 }, (_, i) => augmentParamsFor(SEED_AUGMENT, 7, 3, i));
    const flips = draws.filter((d) => d.flip).length;
    expect(flips).toBeGreaterThan(70);
    expect(flips).toBeLessThan(130);
    for (const d of draws) {
      expect(d.zoom).toBeGreaterThanOrEqual(0.9);
      expect(d.zoom).toBeLessThanOrEqual(1.1);
    }
    expect(draws.some((d) => d.zoom < 0.97) && draws.some((d) => d.zoom > 1.03)).toBe(true);
    const otherEpoch = Array.from({ length: 200 }, (_, i) => augmentParamsFor(SEED_AUGMENT, 7, 4, i));
    expect(otherEpoch).not.toEqual(draws);
  });

  it('alternating flip: epoch 0 draws each image once, later epochs invert that draw every other epoch', () => {
    const config = { ...CROP_FLIP_AUGMENT, alternatingFlip: true };
    const flipsOf = (epoch: number) => Array.from({ length: 400 }, (_, i) => augmentParamsFor(config, 5, epoch, i).flip);
    const first = flipsOf(0);
    const flipped = first.filter(Boolean).length;
    expect(flipped).toBeGreaterThan(150);
    expect(flipped).toBeLessThan(250);
    expect(flipsOf(1)).toEqual(first.map((f) => !f));
    expect(flipsOf(2)).toEqual(first);
    expect(flipsOf(7)).toEqual(first.map((f) => !f));
    // Random flips (the default) repeat a side between consecutive epochs for about half the images.
    const random = (epoch: number) => Array.from({ length: 400 }, (_, i) => augmentParamsFor(CROP_FLIP_AUGMENT, 5, epoch, i).flip);
    const same = random(1).filter((f, i) => f === random(2)[i]).length;
    expect(same).toBeGreaterThan(150);
    // The crop still changes from epoch to epoch.
    expect(
      augmentParamsFor(config, 5, 1, 3).shiftX === augmentParamsFor(config, 5, 3, 3).shiftX &&
        augmentParamsFor(config, 5, 1, 4).shiftX === augmentParamsFor(config, 5, 3, 4).shiftX &&
        augmentParamsFor(config, 5, 1, 5).shiftX === augmentParamsFor(config, 5, 3, 5).shiftX,
    ).toBe(false);
    // Without flip there is nothing to alternate.
    expect(augmentParamsFor({ ...NO_AUGMENT, alternatingFlip: true }, 5, 1, 3).flip).toBe(false);
  });

  it('turns off with a zero config', () => {
    const p = augmentParamsFor(NO_AUGMENT, 1, 1, 1);
    expect(p).toEqual({ flip: false, zoom: 1, shiftX: 0, shiftY: 0 });
  });
});

describe('random crop parameters', () => {
  it('cropShift maps [0, 1) onto the whole numbers -padding..padding in equal parts', () => {
    expect(cropShift(4, 0)).toBe(-4);
    expect(cropShift(4, 0.999999)).toBe(4);
    expect(cropShift(4, 4 / 9)).toBe(0);
    expect(cropShift(4, 4 / 9 - 1e-9)).toBe(-1);
    expect(cropShift(1, 0.5)).toBe(0);
  });

  it('the seed recipe draws no shift; flip-crop draws every offset in [-4, 4], the same for the same (seed, epoch, sample)', () => {
    for (let i = 0; i < 50; i++) expect(augmentParamsFor(SEED_AUGMENT, 3, 1, i)).toMatchObject({ shiftX: 0, shiftY: 0 });
    const draws = Array.from({ length: 900 }, (_, i) => augmentParamsFor(CROP_FLIP_AUGMENT, 3, 1, i));
    const xs = new Set(draws.map((d) => d.shiftX));
    const ys = new Set(draws.map((d) => d.shiftY));
    expect([...xs].sort((a, b) => a - b)).toEqual([-4, -3, -2, -1, 0, 1, 2, 3, 4]);
    expect(ys.size).toBe(9);
    expect(draws.every((d) => d.zoom === 1)).toBe(true);
    // x and y come from separate streams: they are not the same number.
    expect(draws.filter((d) => d.shiftX === d.shiftY).length).toBeLessThan(200);
    expect(augmentParamsFor(CROP_FLIP_AUGMENT, 3, 1, 17)).toEqual(draws[17]);
  });
});

describe('augmentBatch', () => {
  it('a shift is the crop of the mirror-padded image: every pixel copied exactly', () => {
    const h = 5;
    const w = 6;
    const img = rampImage(h, w, 3);
    const src = img.dataSync();
    // TensorFlow's reflect fill repeats the edge pixel: -1 → 0, -2 → 1, w → w - 1.
    const mirror = (i: number, n: number) => (i < 0 ? -i - 1 : i >= n ? 2 * n - 1 - i : i);
    for (const [shiftX, shiftY, flip] of [
      [2, -1, false],
      [-3, 2, false],
      [1, 1, true],
    ] as const) {
      const out = augmentBatch(img, [{ flip, zoom: 1, shiftX, shiftY }]);
      const got = Array.from(out.dataSync());
      const want: number[] = [];
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const sx = mirror((flip ? w - 1 - x : x) + shiftX, w);
          const sy = mirror(y + shiftY, h);
          for (let c = 0; c < 3; c++) want.push(src[(sy * w + sx) * 3 + c]);
        }
      }
      expect(got, `shift (${shiftX}, ${shiftY}) flip ${flip}`).toEqual(want);
      out.dispose();
    }
    img.dispose();
  });

  it('zoom factor 1 without flip is the identity', () => {
    const img = rampImage(8, 8, 3);
    const out = augmentBatch(img, [{ flip: false, zoom: 1, shiftX: 0, shiftY: 0 }]);
    expect(Array.from(out.dataSync())).toEqual(Array.from(img.dataSync()));
    tf.dispose([img, out]);
  });

  it('flips a known image exactly', () => {
    const img = rampImage(4, 5, 3);
    const out = augmentBatch(img, [{ flip: true, zoom: 1, shiftX: 0, shiftY: 0 }]);
    const expected = tf.reverse(img, 2);
    expect(Array.from(out.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([img, out, expected]);
  });

  it('zooming in magnifies about the centre and zooming out reflects at the border', () => {
    // 1-D ramp along x: after zoom-in the centre keeps its value and the slope shrinks.
    const w = 9;
    const data = new Float32Array(w).map((_, x) => x);
    const img = tf.tensor4d(data, [1, 1, w, 1]);
    const zoomIn = augmentBatch(img, [{ flip: false, zoom: 0.5, shiftX: 0, shiftY: 0 }]).dataSync();
    expect(zoomIn[4]).toBeCloseTo(4, 5);
    expect(zoomIn[5] - zoomIn[4]).toBeCloseTo(0.5, 5);
    const zoomOut = augmentBatch(img, [{ flip: false, zoom: 2, shiftX: 0, shiftY: 0 }]).dataSync();
    // x=0 samples input x = -4: reflected back inside the image, never a constant fill.
    expect(zoomOut[0]).toBeGreaterThanOrEqual(0);
    expect(zoomOut[0]).toBeLessThanOrEqual(8);
    expect(zoomOut[4]).toBeCloseTo(4, 5);
    img.dispose();
  });

  it('same seed gives the same pixels, another epoch differs', () => {
    const img = tf.tidy(() => tf.concat([rampImage(6, 6, 3), tf.reverse(rampImage(6, 6, 3), 1)]));
    const run = (epoch: number) => {
      const params = [0, 1].map((i) => augmentParamsFor(SEED_AUGMENT, 42, epoch, i));
      const t = augmentBatch(img as tf.Tensor4D, params);
      const d = Array.from(t.dataSync());
      t.dispose();
      return d;
    };
    expect(run(0)).toEqual(run(0));
    expect(run(0)).not.toEqual(run(1));
    img.dispose();
  });

  it('builds Keras zoom matrices', () => {
    expect(transformFor({ flip: false, zoom: 1, shiftX: 0, shiftY: 0 }, 32, 32)).toEqual([1, 0, 0, 0, 1, 0, 0, 0]);
    const [a0, , a2] = transformFor({ flip: true, zoom: 1, shiftX: 0, shiftY: 0 }, 32, 32);
    expect(a0).toBe(-1);
    expect(a2).toBe(31);
    expect(transformFor({ flip: false, zoom: 1, shiftX: 3, shiftY: -2 }, 32, 32)).toEqual([1, 0, 3, 0, 1, -2, 0, 0]);
  });
});
