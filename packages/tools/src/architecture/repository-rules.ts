import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cruise, type IDependency, type IModule } from 'dependency-cruiser';
import { collapse, findCycles, folderOf, packageOf, type ImportEdge } from './import-graph';

/**
 * Note [Package entries]
 * ~~~~~~~~~~~~~~~~~~~~~~
 * A package is imported from another only through the entries its package.json exports:
 * `src/index.ts` (its whole public surface), `src/node.ts` or `src/browser.ts` where it has a
 * half that only Node (or also a browser) can load, and `src/cli/*.ts` for commands started as
 * processes. A path into another package's files, relative or by name, is a violation, as is any
 * import circle between files, folders or packages (tests count for packages: a devDependency is
 * still an arrow). docs/ARCHITECTURE.md draws the packages and their arrows.
 */
const ENTRY = String.raw`^packages/[^/]+/(src/(index|node|browser)\.ts|src/cli/[^/]+\.ts|package\.json)$`;

/** No source file longer than this: one that grows past it holds more than one job. */
export const MAX_FILE_LINES = 450;

export interface ArchitectureReport {
  modules: number;
  violations: string[];
}

/** Checks the tree under `root` against Note [Package entries] and the file-length limit. */
export async function checkArchitecture(root: string): Promise<ArchitectureReport> {
  const cwd = process.cwd();
  process.chdir(root);
  let modules: IModule[];
  try {
    const result = await cruise(
      ['packages', 'test'],
      {
        validate: true,
        ruleSet: {
          forbidden: [
            { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
            {
              name: 'no-deep-import',
              comment: 'Note [Package entries]',
              severity: 'error',
              from: { path: '^(packages/[^/]+|test)/' },
              to: { path: '^packages/[^/]+/', pathNot: ['^$1/', ENTRY] },
            },
          ],
        },
        exclude: { path: '(^|/)(node_modules|dist|build)/|\\.tmp\\.' },
        doNotFollow: { path: 'node_modules' },
        tsPreCompilationDeps: true,
        tsConfig: { fileName: 'tsconfig.base.json' },
        enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
      },
      {},
      { tsConfig: { options: { moduleResolution: 100 as never } } as never },
    );
    if (typeof result.output === 'string') throw new Error('dependency-cruiser returned text, not a cruise result');
    modules = result.output.modules;
    const violations = result.output.summary.violations.map(
      (v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`,
    );
    violations.push(...unresolved(modules), ...cycles(modules), ...longFiles(modules));
    return { modules: modules.length, violations };
  } finally {
    process.chdir(cwd);
  }
}

function ours(file: string): boolean {
  return packageOf(file) !== null;
}

function unresolved(modules: IModule[]): string[] {
  return modules.flatMap((m) =>
    ours(m.source)
      ? m.dependencies.filter((d: IDependency) => d.couldNotResolve && !/\.css$/.test(d.module)).map((d) => `unresolved: ${m.source} imports ${d.module}`)
      : [],
  );
}

function cycles(modules: IModule[]): string[] {
  const edges: ImportEdge[] = modules.flatMap((m) =>
    ours(m.source) ? m.dependencies.filter((d) => ours(d.resolved)).map((d) => ({ from: m.source, to: d.resolved })) : [],
  );
  // Folders: production files only (a test is imported by nothing, but may reach a helper folder that imports the tested one).
  const production = edges.filter((e) => !/\.test\.ts$/.test(e.from));
  const describe = (kind: string) => (c: ReturnType<typeof findCycles>[number]) =>
    `${kind} cycle: ${c.groups.join(', ')} (${c.path.map((e) => `${e.from} → ${e.to}`).join('; ')})`;
  // A package's entries are the package itself, above its folders, not members of src/.
  const entryOrFolder = (file: string) => (new RegExp(ENTRY).test(file) ? `${packageOf(file)} (entries)` : folderOf(file));
  return [...findCycles(collapse(production, entryOrFolder)).map(describe('folder')), ...findCycles(collapse(edges, packageOf)).map(describe('package'))];
}

function longFiles(modules: IModule[]): string[] {
  return modules.flatMap((m) => {
    if (!ours(m.source) || !/\.(ts|mts|mjs|cjs)$/.test(m.source)) return [];
    const lines = readFileSync(path.resolve(m.source), 'utf8').split('\n').length - 1;
    return lines > MAX_FILE_LINES ? [`too long: ${m.source} has ${lines} lines (at most ${MAX_FILE_LINES})`] : [];
  });
}
