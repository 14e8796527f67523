import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkArchitecture } from './repository-rules';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

describe('this repository against Note [Package entries]', () => {
  it('has no deep import, no import circle between files, folders or packages, and no file over the limit', async () => {
    const report = await checkArchitecture(ROOT);
    // The cruise really read the tree (every package's files), so an empty list means something.
    expect(report.modules).toBeGreaterThan(400);
    expect(report.violations).toEqual([]);
  }, 60_000);
});
