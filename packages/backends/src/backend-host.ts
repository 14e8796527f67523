import fs from 'node:fs';
import { createRequire } from 'node:module';
import { loadOneDnnBinding } from '@gradsync/backend-onednn';
import type { BindingProbe } from '@gradsync/backend-onednn';
import { nodeWebGpuDeps, type WebGpuDeps } from '@gradsync/backend-webgpu';

/**
 * Everything backend selection touches outside TensorFlow.js: the file system, module loading,
 * the environment. Tests pass a fake to exercise the native-backend paths without native modules.
 */
export interface BackendHost {
  /** Absolute path of an installed package's package.json, or null when it is not installed. */
  resolvePackageJson(packageName: string): string | null;
  readFile(path: string): string;
  fileExists(path: string): boolean;
  /** Loads a package for its side effects (a native package registers and activates 'tensorflow'). */
  loadModule(packageName: string): unknown;
  /** N-API version of this Node (process.versions.napi). */
  napiVersion: number;
  /** Environment the native library reads (CUDA_VISIBLE_DEVICES). */
  env: Record<string, string | undefined>;
  /** gradsync's oneDNN addon, or why it cannot load (not built, wrong Node ABI, no libdnnl). */
  loadOneDnn(): BindingProbe;
  /** What the webgpu backend loads and probes (Dawn, the Vulkan loader, GPU device nodes). */
  webGpu: WebGpuDeps;
}

const require = createRequire(import.meta.url);

export const nodeBackendHost: BackendHost = {
  resolvePackageJson(packageName) {
    try {
      return require.resolve(`${packageName}/package.json`);
    } catch {
      return null;
    }
  },
  readFile: (path) => fs.readFileSync(path, 'utf8'),
  fileExists: (path) => fs.existsSync(path),
  loadModule: (packageName) => require(packageName),
  napiVersion: Number(process.versions.napi ?? 0),
  env: process.env,
  loadOneDnn: () => loadOneDnnBinding(),
  webGpu: nodeWebGpuDeps,
};
