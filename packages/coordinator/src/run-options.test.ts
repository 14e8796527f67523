import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { SEED_RECIPE } from '@gradsync/train';
import { describe, expect, it } from 'vitest';
import { addRunOptions, launchOptionsFrom } from './run-options';

function optionsFor(argv: string[]) {
  const program = addRunOptions(new Command('pnpm coordinator')).exitOverride();
  program.parse(argv, { from: 'user' });
  return launchOptionsFrom(program, 2, () => {}, argv);
}

/** A run folder whose config.json is the recipe with `fields` over it (undefined: left out). */
function savedRun(fields: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gradsync-run-options-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...SEED_RECIPE, runName: 'saved', ...fields }));
  return dir;
}

describe('--split', () => {
  it('defaults to speed and goes into the run configuration', () => {
    expect(optionsFor([]).config.split).toBe('speed');
    expect(optionsFor(['--split', 'equal']).config.split).toBe('equal');
  });

  it('on resume: the run keeps its own split unless the flag is given; a run from before the flag was split equally', () => {
    expect(optionsFor(['--resume', savedRun({ split: 'speed' })]).config.split).toBe('speed');
    expect(optionsFor(['--resume', savedRun({ split: undefined })]).config.split).toBe('equal');
    expect(optionsFor(['--resume', savedRun({ split: 'equal' }), '--split', 'speed']).config.split).toBe('speed');
  });
});

describe('--recipe on pnpm coordinator / pnpm start', () => {
  it('the preset with the flags given over it, next to the coordinator-only fields', () => {
    const config = optionsFor(['--recipe', 'resnet9', '--batch-size', '256', '--split', 'equal']).config;
    expect(config).toMatchObject({ recipe: 'resnet9', model: 'resnet9', batchSize: 256, split: 'equal', optimizer: { kind: 'sgd-nesterov' } });
  });

  it('on resume: a run saved before the recipe fields resumes as the seed recipe it was', () => {
    const config = optionsFor([
      '--resume',
      savedRun({ recipe: undefined, optimizer: undefined, schedule: undefined, augment: { flip: true, zoomRange: 0.1 } }),
    ]).config;
    expect(config).toMatchObject({ recipe: 'seed', optimizer: SEED_RECIPE.optimizer, schedule: SEED_RECIPE.schedule });
    expect(config.augment).toEqual(SEED_RECIPE.augment);
  });
});
