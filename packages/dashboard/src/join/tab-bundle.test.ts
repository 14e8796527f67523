import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ENTRY = fileURLToPath(new URL('./tab-worker-entry.ts', import.meta.url));
/** The repository's root: the metafile names its inputs relative to it (`packages/core/src/…`), wherever vitest runs. */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
/** The packages whose code may run in a tab worker; any other (cluster, coordinator, metrics, a backend for Node) is Node-side. */
/** Node-only libraries of our packages' Node halves (command line, sockets, archives, terminal): none may reach the tab. */
const NODE_ONLY_LIBRARIES = ['commander', 'ws', 'tar', 'cli-progress', 'selfsigned', 'msgpackr-extract'];
const BROWSER_PACKAGES = ['core', 'protocol', 'collective', 'data', 'train', 'kernels', 'backend-wasm', 'worker', 'dashboard'];

/**
 * The tab worker runs gradsync's own session, protocol and training code in a browser. A barrel
 * import can quietly pull a Node-only module (fs, a native addon loader, commander) into it, which
 * breaks the page's build or the tab at run time. Bundled for the browser here, no module of ours
 * may import a Node built-in (tfjs' own guarded `fs`/`path` requires are theirs, and allowed), and
 * every module of ours comes from a package meant for the browser (BROWSER_PACKAGES).
 */
describe('the tab worker bundle', () => {
  it("holds only browser packages' modules, none of which imports a Node built-in", async () => {
    const result = await build({
      entryPoints: [ENTRY],
      absWorkingDir: REPO_ROOT,
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      conditions: ['browser'],
      metafile: true,
      logLevel: 'silent',
      external: [...NODE_BUILTINS],
    });
    const offenders: string[] = [];
    const strays: string[] = [];
    let ours = 0;
    for (const [file, input] of Object.entries(result.metafile.inputs)) {
      const library = NODE_ONLY_LIBRARIES.find((name) => file.includes(`node_modules/${name}/`));
      if (library) offenders.push(`${file} (${library}) is in the bundle`);
      if (file.includes('node_modules')) continue;
      ours++;
      if (!BROWSER_PACKAGES.some((name) => file.includes(`packages/${name}/`))) strays.push(file);
      for (const imported of input.imports) if (NODE_BUILTINS.has(imported.path)) offenders.push(`${file} imports ${imported.path}`);
    }
    expect(offenders).toEqual([]);
    // No file of a Node-side package rides along in the tab worker.
    expect(strays).toEqual([]);
    // The bundle really holds the worker's session and core's training code.
    expect(ours).toBeGreaterThan(30);
    expect(Object.keys(result.metafile.inputs).some((f) => f.endsWith('worker/src/session/worker-session.ts'))).toBe(true);
    expect(Object.keys(result.metafile.inputs).some((f) => f.endsWith('core/src/hash/sha256-browser.ts'))).toBe(true);
    expect(Object.keys(result.metafile.inputs).some((f) => f.endsWith('packages/train/src/model/zoo.ts'))).toBe(true);
  }, 60_000);
});
