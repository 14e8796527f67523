import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, it, vi } from 'vitest';
import { expectBucketedStepLikePacked } from './bucketed-step';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('handing the buffer over in buckets (overlapped all-reduce), on the cpu backend', () => {
  afterEach(() => vi.restoreAllMocks());
  it('tiny-cnn: the same bytes as the packed buffer, each bucket handed over in plan order, the first before the backward pass ends', async () => {
    const n = 6;
    await expectBucketedStepLikePacked('tiny-cnn', {
      images: new Uint8Array(n * 3072).map((_, i) => (i * 37) % 256),
      labels: new Uint8Array(n).map((_, i) => (i * 3) % 10),
    });
  });
});
