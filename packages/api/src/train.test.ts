import { describe, expect, it } from 'vitest';
import { train } from './index';

// Refusals come before any port opens or process starts: a whole run is the examples' e2e test.
describe('train() checks its options first', () => {
  it('names a model that is neither a zoo name, a file nor a function', async () => {
    await expect(train({ model: 'resnet10', data: '/nonexistent' })).rejects.toThrow(/train\(\): model must be a zoo name, .* got "resnet10"/);
  });

  it('names a bad worker count and a bad run setting', async () => {
    await expect(train({ model: 'linear', data: '/nonexistent', workers: 0 })).rejects.toThrow(/workers must be an integer ≥ 1, got 0/);
    await expect(train({ model: 'linear', data: '/nonexistent', epochs: -1 })).rejects.toThrow(/epochs/);
  });
});
