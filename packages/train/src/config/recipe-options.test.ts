import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { CROP_FLIP_AUGMENT, NO_AUGMENT, SEED_AUGMENT } from '../augment/index';
import { addRecipeOptions, recipeFromOptions } from './recipe-options';
import { AIRBENCH_RECIPE, IMPROVED_RECIPE, RECIPES, RESNET9_RECIPE, SEED_RECIPE } from './recipes';
import { writeRunConfigFile } from './run-config-file';

/** The configuration a training program builds from these arguments. */
function configFor(argv: string[]) {
  const program = addRecipeOptions(new Command('pnpm train')).exitOverride();
  program.parse(argv, { from: 'user' });
  return recipeFromOptions(program.opts(), {}, 'test');
}

const withoutName = <T extends { runName: string }>(c: T) => {
  const { runName: _, ...rest } = c;
  return rest;
};

describe('--recipe', () => {
  it("defaults to seed: the tutorial's recipe exactly, as before presets existed", () => {
    expect(withoutName(configFor([]))).toEqual(SEED_RECIPE);
    expect(SEED_RECIPE).toMatchObject({
      model: 'seed-cnn',
      epochs: 20,
      batchSize: 64,
      lr: 1e-3,
      augment: SEED_AUGMENT,
      bnMomentum: 0.99,
      labelSmoothing: 0,
      optimizer: { kind: 'adam', weightDecay: 0 },
      schedule: { kind: 'plateau' },
    });
  });

  it('names a whole preset', () => {
    expect(withoutName(configFor(['--recipe', 'improved']))).toEqual(IMPROVED_RECIPE);
    expect(withoutName(configFor(['--recipe', 'resnet9']))).toEqual(RESNET9_RECIPE);
    expect(IMPROVED_RECIPE.model).toBe('seed-cnn');
    expect(RESNET9_RECIPE.model).toBe('resnet9');
    expect(withoutName(configFor(['--recipe', 'airbench']))).toEqual(AIRBENCH_RECIPE);
    expect(AIRBENCH_RECIPE).toMatchObject({
      model: 'airbench',
      epochs: 24,
      validationCount: 0,
      testTimeFlip: true,
      whitenedStem: true,
      optimizer: RESNET9_RECIPE.optimizer,
    });
    expect(AIRBENCH_RECIPE.augment).toEqual({ flip: true, alternatingFlip: true, zoomRange: 0, cropPadding: 2 });
    expect(configFor(['--recipe', 'seed', '--augment', 'airbench']).augment).toEqual(AIRBENCH_RECIPE.augment);
    expect(configFor(['--recipe', 'airbench', '--augment', 'flip-crop']).augment).toEqual(RESNET9_RECIPE.augment);
  });

  it("a preset's validation split and test-time flip hold unless their flags are given", () => {
    expect(configFor([]).validationCount).toBe('auto');
    expect(configFor(['--recipe', 'airbench']).validationCount).toBe(0);
    expect(configFor(['--recipe', 'airbench', '--validation', 'auto']).validationCount).toBe('auto');
    expect(configFor(['--validation', '100']).validationCount).toBe(100);
    expect(configFor([]).testTimeFlip).toBe(false);
    expect(configFor(['--test-time-flip']).testTimeFlip).toBe(true);
    expect(configFor(['--recipe', 'airbench', '--no-test-time-flip']).testTimeFlip).toBe(false);
  });

  it("--whiten-stem: airbench only; another --model leaves a preset's whitened stem behind", () => {
    expect(configFor(['--recipe', 'airbench']).whitenedStem).toBe(true);
    expect(configFor([]).whitenedStem).toBe(false);
    expect(configFor(['--recipe', 'airbench', '--whiten-stem']).whitenedStem).toBe(true);
    expect(configFor(['--recipe', 'airbench', '--no-whiten-stem']).whitenedStem).toBe(false);
    expect(configFor(['--recipe', 'airbench', '--whiten-stem', '--model', 'airbench']).whitenedStem).toBe(true);
    expect(configFor(['--recipe', 'airbench', '--model', 'resnet9']).whitenedStem).toBe(false);
    expect(() => configFor(['--whiten-stem'])).toThrow(/^whiten-stem must be off for model seed-cnn/);
  });

  it('flags given win over the preset; the fields not given stay the preset’s', () => {
    const c = configFor(['--recipe', 'improved', '--lr', '0.01', '--batch-size', '64', '--epochs', '3', '--weight-decay', '0.1', '--label-smoothing', '0']);
    expect(c).toMatchObject({ recipe: 'improved', lr: 0.01, batchSize: 64, epochs: 3, labelSmoothing: 0 });
    expect(c.optimizer).toEqual({ ...IMPROVED_RECIPE.optimizer, weightDecay: 0.1 });
    expect(c.schedule).toEqual(IMPROVED_RECIPE.schedule);
    expect(c.augment).toEqual(CROP_FLIP_AUGMENT);
    expect(c.bnMomentum).toBe(IMPROVED_RECIPE.bnMomentum);
  });

  it("--conventions pytorch: PyTorch's BatchNorm momentum and plateau threshold; --bn-momentum still wins; keras on a preset brings Keras' back", () => {
    const torch = configFor(['--conventions', 'pytorch']);
    expect(torch).toMatchObject({ conventions: 'pytorch', bnMomentum: 0.9, plateau: { ...SEED_RECIPE.plateau, threshold: 'relative' } });
    expect(withoutName(torch)).toEqual({ ...SEED_RECIPE, conventions: 'pytorch', bnMomentum: 0.9, plateau: { ...SEED_RECIPE.plateau, threshold: 'relative' } });
    expect(configFor(['--conventions', 'pytorch', '--bn-momentum', '0.99']).bnMomentum).toBe(0.99);
    expect(configFor(['--recipe', 'improved', '--conventions', 'keras'])).toMatchObject({ conventions: 'keras', bnMomentum: 0.99 });
    expect(Object.values(RECIPES).map((r) => r.conventions)).toEqual(['keras', 'keras', 'keras', 'keras']);
    expect(() => configFor(['--conventions', 'jax'])).toThrow(/Allowed choices are keras, pytorch/);
  });

  it("--dropout-scale scales the network's dropout; bad values name the flag", () => {
    expect(configFor([]).dropoutScale).toBe(1);
    expect(configFor(['--recipe', 'improved', '--dropout-scale', '0.5']).dropoutScale).toBe(0.5);
    expect(() => configFor(['--dropout-scale', '-1'])).toThrow(/--dropout-scale must be a number ≥ 0, got "-1"/);
    expect(() => configFor(['--dropout-scale', '2'])).toThrow(/dropout scale must be in \[0, 2\)/);
    expect(() => configFor(['--recipe', 'resnet9', '--dropout-scale', '0.5'])).toThrow(/^--dropout-scale applies to seed-cnn only: resnet9 has no dropout$/);
    // The improved preset's own scale rides along harmlessly when its model is swapped.
    expect(configFor(['--recipe', 'improved', '--model', 'tiny-cnn'])).toMatchObject({ model: 'tiny-cnn', dropoutScale: IMPROVED_RECIPE.dropoutScale });
  });

  it('each new knob has its flag, on the seed recipe too', () => {
    const c = configFor(['--optimizer', 'sgd-nesterov', '--schedule', 'cosine', '--warmup', '0.1', '--augment', 'flip-crop', '--model', 'resnet9']);
    expect(c.optimizer.kind).toBe('sgd-nesterov');
    expect(c.schedule).toEqual({ kind: 'cosine', warmupFraction: 0.1 });
    expect(c.augment).toEqual(CROP_FLIP_AUGMENT);
    expect(c.model).toBe('resnet9');
    expect(c.recipe).toBe('seed');
  });

  it('--no-augment and --augment none turn augmentation off whatever the preset', () => {
    expect(configFor(['--recipe', 'improved', '--no-augment']).augment).toEqual(NO_AUGMENT);
    expect(configFor(['--recipe', 'resnet9', '--augment', 'none']).augment).toEqual(NO_AUGMENT);
    expect(configFor(['--recipe', 'improved', '--augment', 'flip-zoom']).augment).toEqual(SEED_AUGMENT);
  });

  it('--sync-bn turns synchronised BatchNorm on (off in every preset); refused for resnet9, naming the field', () => {
    expect(configFor([]).syncBatchNorm).toBe(false);
    expect(configFor(['--recipe', 'improved', '--sync-bn']).syncBatchNorm).toBe(true);
    expect(() => configFor(['--recipe', 'resnet9', '--sync-bn'])).toThrow(
      /^sync-bn must be off for model resnet9 \(it needs a sequential model with BatchNorm: seed-cnn\), got true$/,
    );
  });

  it('a bad flag value fails naming the flag', () => {
    expect(() => configFor(['--label-smoothing', '1'])).toThrow('--label-smoothing must be a number in [0, 1), got "1"');
    expect(() => configFor(['--warmup', '-0.1'])).toThrow('--warmup must be a number in [0, 1), got "-0.1"');
    expect(() => configFor(['--weight-decay', 'x'])).toThrow('--weight-decay must be a number ≥ 0, got "x"');
    expect(() => configFor(['--recipe', 'fast'])).toThrow(/argument 'fast' is invalid.*seed, improved, resnet9, airbench/);
    expect(() => configFor(['--optimizer', 'rmsprop'])).toThrow(/argument 'rmsprop' is invalid.*adam, adamw, sgd-nesterov/);
  });

  it('every preset is a valid configuration', () => {
    for (const [name, recipe] of Object.entries(RECIPES)) {
      expect(recipe.recipe).toBe(name);
      expect(() => configFor(['--recipe', name])).not.toThrow();
    }
  });
});

describe('config.json', () => {
  it('holds the whole resolved configuration: preset, flags, every new field', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gradsync-config-'));
    const config = configFor(['--recipe', 'improved', '--lr', '0.002', '--run-name', 'r1']);
    const file = await writeRunConfigFile(dir, config);
    expect(file).toBe(path.join(dir, 'config.json'));
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(saved).toEqual(config);
    expect(saved).toMatchObject({
      runName: 'r1',
      recipe: 'improved',
      lr: 0.002,
      batchSize: 64,
      labelSmoothing: 0.1,
      dropoutScale: 0.5,
      optimizer: { kind: 'adamw', weightDecay: 0.01, momentum: 0.9 },
      schedule: { kind: 'one-cycle', warmupFraction: 0.2 },
      augment: { flip: true, zoomRange: 0, cropPadding: 4 },
    });
  });
});
