import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { augmentBatch, augmentParamsFor, SEED_AUGMENT, transformFor } from './index';

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

  it('turns off with a zero config', () => {
    const p = augmentParamsFor({ flip: false, zoomRange: 0 }, 1, 1, 1);
    expect(p).toEqual({ flip: false, zoom: 1 });
  });
});

describe('augmentBatch', () => {
  it('zoom factor 1 without flip is the identity', () => {
    const img = rampImage(8, 8, 3);
    const out = augmentBatch(img, [{ flip: false, zoom: 1 }]);
    expect(Array.from(out.dataSync())).toEqual(Array.from(img.dataSync()));
    tf.dispose([img, out]);
  });

  it('flips a known image exactly', () => {
    const img = rampImage(4, 5, 3);
    const out = augmentBatch(img, [{ flip: true, zoom: 1 }]);
    const expected = tf.reverse(img, 2);
    expect(Array.from(out.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([img, out, expected]);
  });

  it('zooming in magnifies about the centre and zooming out reflects at the border', () => {
    // 1-D ramp along x: after zoom-in the centre keeps its value and the slope shrinks.
    const w = 9;
    const data = new Float32Array(w).map((_, x) => x);
    const img = tf.tensor4d(data, [1, 1, w, 1]);
    const zoomIn = augmentBatch(img, [{ flip: false, zoom: 0.5 }]).dataSync();
    expect(zoomIn[4]).toBeCloseTo(4, 5);
    expect(zoomIn[5] - zoomIn[4]).toBeCloseTo(0.5, 5);
    const zoomOut = augmentBatch(img, [{ flip: false, zoom: 2 }]).dataSync();
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
    expect(transformFor({ flip: false, zoom: 1 }, 32, 32)).toEqual([1, 0, 0, 0, 1, 0, 0, 0]);
    const [a0, , a2] = transformFor({ flip: true, zoom: 1 }, 32, 32);
    expect(a0).toBe(-1);
    expect(a2).toBe(31);
  });
});
