import path from 'node:path';
import type { BackendHost } from './backend-host';

/** The native packages: both load `lib/napi-v{N}/tfjs_binding.node`, which links libtensorflow. */
export type NativePackage = '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';

export type NativeBindingProbe = { found: true; bindingPath: string } | { found: false; why: string; bindingPath?: string };

/**
 * The command that really runs the package's install script in this workspace. pnpm skips the
 * packages in `ignoredBuiltDependencies` (pnpm-workspace.yaml) even on `pnpm rebuild`, and
 * `npm rebuild` does nothing in a pnpm tree; the --config flag lifts the ignore for this one run.
 */
export function rebuildCommand(packageName: NativePackage): string {
  return `pnpm rebuild --filter @gradsync/backends --config.dangerously-allow-all-builds=true ${packageName}`;
}

/** What the install script prints offline (measured): a stack trace ending in this, then pnpm's "Failed". */
const OFFLINE_FAILURE = '"getaddrinfo ENOTFOUND storage.googleapis.com", where libtensorflow is downloaded from';

interface PreGypBinary {
  module_name?: string;
  module_path?: string;
  napi_versions?: number[];
}

/**
 * Finds the native binding a tfjs-node package would require, without requiring it: requiring a
 * package whose binding is missing still registers its ~200 kernels before it throws, and loading
 * a second one then prints a "kernel already registered" line for each.
 *
 * Same rule as @mapbox/node-pre-gyp (which tfjs-node uses): package.json `binary.module_path`
 * with `{napi_build_version}` replaced by the highest of `binary.napi_versions` that this Node
 * supports, plus `binary.module_name` + '.node'.
 */
export function probeNativeBinding(packageName: NativePackage, host: BackendHost): NativeBindingProbe {
  const packageJson = host.resolvePackageJson(packageName);
  if (packageJson == null) return { found: false, why: `${packageName} is not installed` };
  let binary: PreGypBinary | undefined;
  try {
    binary = (JSON.parse(host.readFile(packageJson)) as { binary?: PreGypBinary }).binary;
  } catch (err) {
    return { found: false, why: `cannot read ${packageJson}: ${(err as Error).message}` };
  }
  if (binary?.module_path == null || binary.module_name == null) {
    return { found: false, why: `${packageJson} has no binary.module_path/module_name` };
  }
  let modulePath = binary.module_path;
  if (modulePath.includes('{napi_build_version}')) {
    const usable = (binary.napi_versions ?? []).filter((v) => v <= host.napiVersion);
    if (usable.length === 0) {
      return {
        found: false,
        why: `${packageName} needs N-API ${(binary.napi_versions ?? []).join('/')}, this Node has N-API ${host.napiVersion}`,
      };
    }
    modulePath = modulePath.replace(/\{napi_build_version\}/g, String(Math.max(...usable)));
  }
  const bindingPath = path.resolve(path.dirname(packageJson), modulePath, `${binary.module_name}.node`);
  if (!host.fileExists(bindingPath)) {
    return {
      found: false,
      bindingPath,
      why:
        `${packageName}'s native binding ${path.join(modulePath, `${binary.module_name}.node`)} is missing ` +
        `(its install script downloads libtensorflow, which fails offline); fix, with network access: ` +
        `\`${rebuildCommand(packageName)}\` (offline it stops at ${OFFLINE_FAILURE})`,
    };
  }
  return { found: true, bindingPath };
}
