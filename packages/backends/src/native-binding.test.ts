import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBackendHost } from './backend-host';
import { nodeWebGpuDeps } from '@gradsync/backend-webgpu';
import type { BackendHost } from './backend-host';
import { probeNativeBinding, rebuildCommand } from './native-binding';

const pkgDir = '/deps/node_modules/@tensorflow/tfjs-node';
const packageJson = JSON.stringify({
  binary: { module_name: 'tfjs_binding', module_path: './lib/napi-v{napi_build_version}', napi_versions: [3, 4, 5, 6, 7, 8] },
});

function host(files: string[], napiVersion = 9): BackendHost {
  return {
    resolvePackageJson: (name) => (name === '@tensorflow/tfjs-node' ? path.join(pkgDir, 'package.json') : null),
    readFile: () => packageJson,
    fileExists: (p) => files.includes(p),
    loadModule: () => {
      throw new Error('not in this test');
    },
    napiVersion,
    env: {},
    loadOneDnn: () => ({ ok: false, why: 'not in this test' }),
    webGpu: nodeWebGpuDeps,
  };
}

describe('probeNativeBinding', () => {
  it('picks the highest N-API build this Node supports, as node-pre-gyp does', () => {
    const v8 = path.join(pkgDir, 'lib/napi-v8/tfjs_binding.node');
    expect(probeNativeBinding('@tensorflow/tfjs-node', host([v8], 9))).toEqual({ found: true, bindingPath: v8 });
    const v5 = path.join(pkgDir, 'lib/napi-v5/tfjs_binding.node');
    expect(probeNativeBinding('@tensorflow/tfjs-node', host([v5], 5))).toEqual({ found: true, bindingPath: v5 });
  });

  it('explains a missing binding and how to fix it', () => {
    const probe = probeNativeBinding('@tensorflow/tfjs-node', host([]));
    expect(probe.found).toBe(false);
    if (probe.found) return;
    expect(probe.bindingPath).toBe(path.join(pkgDir, 'lib/napi-v8/tfjs_binding.node'));
    expect(probe.why).toMatch(/libtensorflow/);
    expect(probe.why).toContain(
      'fix, with network access: `pnpm rebuild --filter @gradsync/backends --config.dangerously-allow-all-builds=true @tensorflow/tfjs-node`',
    );
    expect(probe.why).toMatch(/offline it stops at "getaddrinfo ENOTFOUND storage\.googleapis\.com"/);
    expect(probe.why).not.toMatch(/`npm rebuild/);
  });

  it("the fix's command fits this workspace: pnpm ignores the package's build, and @gradsync/backends depends on it", () => {
    const root = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
    const workspace = readFileSync(path.join(root, 'pnpm-workspace.yaml'), 'utf8');
    const backends = JSON.parse(readFileSync(path.join(root, 'packages/backends/package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'] as const) {
      // Ignored: a plain `pnpm rebuild NAME` skips it, hence the --config flag in the command.
      expect(workspace).toContain(`- '${name}'`);
      expect({ ...backends.dependencies, ...backends.optionalDependencies }[name]).toBeDefined();
      expect(rebuildCommand(name)).toBe(`pnpm rebuild --filter ${backends.name} --config.dangerously-allow-all-builds=true ${name}`);
    }
  });

  it('reports a package that is not installed', () => {
    const probe = probeNativeBinding('@tensorflow/tfjs-node-gpu', host([]));
    expect(probe).toEqual({ found: false, why: '@tensorflow/tfjs-node-gpu is not installed' });
  });

  it('reports a Node whose N-API is too old', () => {
    const probe = probeNativeBinding('@tensorflow/tfjs-node', host([], 2));
    expect(probe.found).toBe(false);
    if (!probe.found) expect(probe.why).toMatch(/N-API/);
  });

  it('probes the real packages without loading them', () => {
    // This checkout installs both native packages offline, so their bindings are usually absent.
    for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'] as const) {
      const probe = probeNativeBinding(name, nodeBackendHost);
      if (!probe.found) expect(probe.why).toMatch(/not installed|native binding .* is missing/);
    }
  });
});
