// Building a model needs a backend; the cpu one is enough to read the layers' configuration.
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../model/index';
import { SEED_RECIPE, validateRunConfig } from './run-config';

describe('the BatchNorm momentum option', () => {
  it("defaults to the tutorial's (Keras') 0.99 and reaches the model's BatchNorm layers", () => {
    expect(SEED_RECIPE.bnMomentum).toBe(0.99);
    const momenta = (bnMomentum?: number) => {
      const model = buildModel('seed-cnn', 1, 'pytorch', bnMomentum);
      const found = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => (l.getConfig() as { momentum: number }).momentum);
      model.dispose();
      return found;
    };
    expect(momenta()).toEqual([0.99, 0.99]);
    expect(momenta(0.9)).toEqual([0.9, 0.9]);
  });

  it('is validated: a momentum outside (0, 1) names the field', () => {
    const config = { ...SEED_RECIPE, runName: 'r' };
    expect(validateRunConfig({ ...config, bnMomentum: 0.9 }).bnMomentum).toBe(0.9);
    expect(() => validateRunConfig({ ...config, bnMomentum: 1 })).toThrow(/BatchNorm momentum must be in \(0, 1\), got 1/);
    expect(() => validateRunConfig({ ...config, bnMomentum: 0 })).toThrow(/BatchNorm momentum/);
  });
});
