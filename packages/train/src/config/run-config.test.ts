// Building a model needs a backend; the cpu one is enough to read the layers' configuration.
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../model/index';
import { SEED_RECIPE } from './recipes';
import { completeOlderConfig, parseRunConfig, validateRunConfig } from './run-config-check';

describe('the BatchNorm momentum option', () => {
  it("defaults to the tutorial's (Keras') 0.99 and reaches the model's BatchNorm layers", () => {
    expect(SEED_RECIPE.bnMomentum).toBe(0.99);
    const momenta = (bnMomentum?: number) => {
      const model = buildModel('seed-cnn', 1, { bnMomentum });
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

describe('validateRunConfig: the recipe fields', () => {
  const config = { ...SEED_RECIPE, runName: 'r' };
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['recipe', { recipe: 'fast' }, /^recipe must be one of seed, improved, resnet9, airbench, got "fast"$/],
    ['wire dtype', { wireDtype: 'int8' }, /^wire dtype must be f32 \| bf16 \| fp16, got "int8"$/],
    ['bucket size', { bucketKib: 0 }, /^bucket size \(KiB\) must be a number of KiB from 1\/256 \(4 bytes\) to 2\^20, got 0$/],
    ['bucket size not a number', { bucketKib: '64' }, /^bucket size \(KiB\) must be .*got "64"$/],
    ['wire dtype with the star', { wireDtype: 'bf16', allreduce: 'star' }, /^wire dtype must be f32 with --allreduce star .*use ring or auto/],
    ['label smoothing', { labelSmoothing: 1 }, /^label smoothing must be in \[0, 1\), got 1$/],
    ['optimizer', { optimizer: { ...config.optimizer, kind: 'rmsprop' } }, /^optimizer must be one of adam, adamw, sgd-nesterov, got "rmsprop"$/],
    ['weight decay', { optimizer: { ...config.optimizer, weightDecay: -1 } }, /^weight decay must be a number ≥ 0, got -1$/],
    ['momentum', { optimizer: { ...config.optimizer, momentum: 1 } }, /^momentum must be in \[0, 1\), got 1$/],
    ['schedule', { schedule: { kind: 'step', warmupFraction: 0 } }, /^schedule must be one of plateau, one-cycle, cosine, got "step"$/],
    ['warm-up fraction', { schedule: { kind: 'one-cycle', warmupFraction: 1.5 } }, /^warm-up fraction must be in \[0, 1\), got 1.5$/],
    ['crop padding', { augment: { ...config.augment, cropPadding: 2.5 } }, /^crop padding must be an integer ≥ 0, got 2.5$/],
    ['crop padding', { augment: { ...config.augment, cropPadding: 20 } }, /^crop padding must be at most 16/],
    ['alternating flip', { augment: { ...config.augment, alternatingFlip: 1 } }, /^augment.alternatingFlip must be true or false, got 1$/],
    [
      'alternating flip',
      { augment: { ...config.augment, flip: false, alternatingFlip: true } },
      /^augment.alternatingFlip must be false when augment.flip is off/,
    ],
    ['dropout scale', { dropoutScale: 2 }, /^dropout scale must be in \[0, 2\)/],
    ['conventions', { conventions: 'jax' }, /^conventions must be one of keras, pytorch, got "jax"$/],
    ['plateau threshold', { plateau: { ...config.plateau, threshold: 'rel' } }, /^plateau threshold must be absolute or relative, got "rel"$/],
    ['test-time flip', { testTimeFlip: 'yes' }, /^test-time flip must be true or false, got "yes"$/],
    ['whitened stem', { whitenedStem: 1 }, /^whiten-stem must be true or false, got 1$/],
    ['whitened stem', { whitenedStem: true }, /^whiten-stem must be off for model seed-cnn \(only airbench has a whitening stem\), got true$/],
  ];
  it.each(bad)('names the bad field: %s', (_, fields, message) => {
    expect(() => validateRunConfig({ ...config, ...fields } as typeof config)).toThrow(message);
  });

  it('completes a configuration saved before the recipe fields with the seed values it ran with', () => {
    const { threshold: _, ...oldPlateau } = config.plateau;
    const old = {
      ...config,
      recipe: undefined,
      labelSmoothing: undefined,
      optimizer: undefined,
      schedule: undefined,
      conventions: undefined,
      testTimeFlip: undefined,
      whitenedStem: undefined,
      augment: { flip: false, zoomRange: 0 },
      plateau: oldPlateau,
    };
    for (const k of ['recipe', 'labelSmoothing', 'optimizer', 'schedule', 'conventions', 'testTimeFlip', 'whitenedStem'] as const) delete old[k];
    const completed = validateRunConfig(completeOlderConfig(old as never) as typeof config);
    expect(completed).toMatchObject({
      recipe: 'seed',
      labelSmoothing: 0,
      optimizer: SEED_RECIPE.optimizer,
      schedule: SEED_RECIPE.schedule,
      conventions: 'keras',
      testTimeFlip: false,
      whitenedStem: false,
    });
    expect(completed.plateau).toEqual(SEED_RECIPE.plateau);
    expect(completed.augment).toEqual({ flip: false, zoomRange: 0, cropPadding: 0 });
  });
});

describe('parseRunConfig: a configuration from outside (the welcome message, a config.json)', () => {
  it('completes and checks it with the command line checks, naming the bad field', () => {
    const good = parseRunConfig({ ...SEED_RECIPE, runName: 'r1' });
    expect(good.runName).toBe('r1');
    expect(good.model).toBe(SEED_RECIPE.model);
    expect(() => parseRunConfig('seed')).toThrow(/run configuration must be an object, got "seed"/);
    expect(() => parseRunConfig(null)).toThrow(/run configuration must be an object/);
    expect(() => parseRunConfig({ ...SEED_RECIPE, runName: 'r1', batchSize: '64' })).toThrow(/batch size must be an integer ≥ 1, got "64"/);
    expect(() => parseRunConfig({ ...SEED_RECIPE, runName: 'r1', model: 'nope' })).toThrow(/model must be one of/);
    expect(() => parseRunConfig({ ...SEED_RECIPE, runName: 'r1', augment: { ...SEED_RECIPE.augment, cropPadding: 40 } })).toThrow(
      /crop padding must be at most 16/,
    );
  });
});
