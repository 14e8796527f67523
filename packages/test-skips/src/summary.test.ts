import { describe, expect, it } from 'vitest';
import { formatSkipSummary, installCommand } from './summary';
import type { SkipNote } from './skip-note';

const chromium: SkipNote = { suite: 'dashboard in a browser', why: 'no Chromium', apt: ['chromium'] };
const mesa: SkipNote = { suite: 'webgpu training', why: 'no WebGPU adapter', apt: ['libegl1', 'libgles2'] };
const onednnA: SkipNote = {
  suite: 'onednn kernels',
  why: 'addon not built',
  apt: ['g++', 'libdnnl-dev'],
  then: 'pnpm --filter @gradsync/backend-onednn build:addon',
};
const onednnB: SkipNote = { ...onednnA, suite: 'training on onednn' };
const bundle: SkipNote = { suite: 'the GPU check folder', why: 'opt-in', optIn: 'GRADSYNC_BUNDLE_TEST=1' };

describe('installCommand', () => {
  it('one apt-get for every package the skipped suites name, each once, then the follow-up commands once', () => {
    expect(installCommand([chromium, mesa, onednnA, onednnB])).toBe(
      'sudo apt-get install -y chromium libegl1 libgles2 g++ libdnnl-dev && pnpm --filter @gradsync/backend-onednn build:addon',
    );
  });

  it('opt-in suites and suites without packages add nothing', () => {
    expect(installCommand([bundle, { suite: 'disk full', why: 'cannot mount a tmpfs' }])).toBeNull();
  });
});

describe('formatSkipSummary', () => {
  it('nothing skipped: nothing to say', () => {
    expect(formatSkipSummary([])).toBe('');
  });

  it('lists the skipped suites once each, the opt-in ones apart, and the install command', () => {
    expect(formatSkipSummary([chromium, onednnA, chromium, bundle]).split('\n')).toEqual([
      '2 test suite(s) skipped on this machine (the run above is green without them):',
      '  - dashboard in a browser: no Chromium',
      '  - onednn kernels: addon not built',
      '1 opt-in suite(s) not run (nothing missing; ask for them):',
      '  - the GPU check folder: set GRADSYNC_BUNDLE_TEST=1',
      'To run the skipped ones, install what they need, then run pnpm test again:',
      '  sudo apt-get install -y chromium g++ libdnnl-dev && pnpm --filter @gradsync/backend-onednn build:addon',
    ]);
  });

  it('only opt-in suites: no install line', () => {
    expect(formatSkipSummary([bundle])).not.toMatch(/apt-get/);
  });
});
