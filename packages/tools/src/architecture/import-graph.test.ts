import { describe, expect, it } from 'vitest';
import { collapse, findCycles, folderOf, packageOf, type ImportEdge } from './import-graph';

const edge = (from: string, to: string): ImportEdge => ({ from, to });

describe('the import graph by folder and package', () => {
  it('names packages and folders', () => {
    expect(packageOf('packages/train/src/model/zoo.ts')).toBe('packages/train');
    expect(packageOf('test/helpers/runs.ts')).toBe('test');
    expect(packageOf('node_modules/zod/index.js')).toBeNull();
    expect(folderOf('packages/train/src/model/zoo.ts')).toBe('packages/train/src/model');
  });

  it('finds a cycle between folders that no file-level cycle shows, with the imports behind it', () => {
    // a/x → b/y and b/z → a/w: no file imports itself back, but folders a and b do.
    const edges = [edge('p/a/x.ts', 'p/b/y.ts'), edge('p/b/z.ts', 'p/a/w.ts'), edge('p/b/z.ts', 'p/c/v.ts')];
    const cycles = findCycles(collapse(edges, folderOf));
    expect(cycles).toHaveLength(1);
    expect(cycles[0]!.groups).toEqual(['p/a', 'p/b']);
    expect(cycles[0]!.path).toEqual([edge('p/a/x.ts', 'p/b/y.ts'), edge('p/b/z.ts', 'p/a/w.ts')]);
  });

  it('finds none in a one-way graph, and ignores imports inside a group', () => {
    const edges = [
      edge('p/a/x.ts', 'p/a/y.ts'),
      edge('p/a/y.ts', 'p/a/x.ts'),
      edge('p/a/x.ts', 'p/b/y.ts'),
      edge('p/b/y.ts', 'p/c/z.ts'),
      edge('p/a/x.ts', 'p/c/z.ts'),
    ];
    expect(findCycles(collapse(edges, folderOf))).toEqual([]);
  });

  it('reports a three-package ring as one component with a closed path', () => {
    const edges = [
      edge('packages/a/src/i.ts', 'packages/b/src/i.ts'),
      edge('packages/b/src/i.ts', 'packages/c/src/i.ts'),
      edge('packages/c/src/i.ts', 'packages/a/src/j.ts'),
    ];
    const [cycle] = findCycles(collapse(edges, packageOf));
    expect(cycle!.groups).toEqual(['packages/a', 'packages/b', 'packages/c']);
    expect(cycle!.path.map((e) => packageOf(e.from))).toEqual(['packages/a', 'packages/b', 'packages/c']);
  });
});
