import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the addon exports (native/addon.cc); every function checks its arguments and throws on bad ones. */
export interface OneDnnBinding {
  abiVersion: number;
  setThreads(threads: number): number;
  getThreads(): number;
  describe(): { version: string; cpuRuntime: string; threads: number; isa: string; cachedPrimitives: number };
  conv2d(
    x: Float32Array,
    filter: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    xShape: number[],
    filterShape: number[],
    outShape: number[],
    strides: number[],
    dilations: number[],
    padTopLeft: number[],
    padBottomRight: number[],
    relu: boolean,
  ): void;
  conv2dBackpropInput(
    dy: Float32Array,
    filter: Float32Array,
    dx: Float32Array,
    xShape: number[],
    filterShape: number[],
    dyShape: number[],
    strides: number[],
    dilations: number[],
    padTopLeft: number[],
    padBottomRight: number[],
  ): void;
  conv2dBackpropFilter(
    x: Float32Array,
    dy: Float32Array,
    dw: Float32Array,
    xShape: number[],
    filterShape: number[],
    dyShape: number[],
    strides: number[],
    dilations: number[],
    padTopLeft: number[],
    padBottomRight: number[],
  ): void;
  maxPool(x: Float32Array, out: Float32Array, xShape: number[], outShape: number[], window: number[], strides: number[], padTopLeft: number[]): void;
  maxPoolGrad(
    dy: Float32Array,
    x: Float32Array,
    dx: Float32Array,
    xShape: number[],
    dyShape: number[],
    window: number[],
    strides: number[],
    padTopLeft: number[],
  ): void;
  matMul(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    aShape: number[],
    bShape: number[],
    transposeA: boolean,
    transposeB: boolean,
    bias: Float32Array | null,
    activation: string,
  ): void;
  binary(op: string, a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], out: Float32Array | Uint8Array, outShape: number[]): void;
  unary(op: string, x: Float32Array, out: Float32Array, alpha: number): void;
  batchNorm(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array | null,
    scale: Float32Array | null,
    out: Float32Array,
    epsilon: number,
  ): void;
  tile(x: Float32Array, xShape: number[], out: Float32Array, outShape: number[]): void;
  batchNormTrain(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    channels: number,
    epsilon: number,
  ): void;
  batchNormTrainGrad(
    x: Float32Array,
    dy: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    channels: number,
    epsilon: number,
  ): void;
  reluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  reluGradBiasSum(dy: Float32Array, y: Float32Array, dx: Float32Array, dbias: Float32Array, channels: number): void;
  dropout(x: Float32Array, y: Float32Array, mask: Float32Array, rate: number, seed: number): void;
  reduce(op: string, x: Float32Array, out: Float32Array, outer: number, reduced: number, inner: number): void;
  transform(
    image: Float32Array,
    transforms: Float32Array,
    out: Float32Array,
    imageShape: number[],
    outHeight: number,
    outWidth: number,
    interpolation: string,
    fillMode: string,
    fillValue: number,
  ): void;
}

/** The Debian/Ubuntu packages the addon needs to build, and the command that rebuilds it. */
export const ONEDNN_INSTALL_HINT = 'apt-get install g++ libdnnl-dev';
export const ONEDNN_REBUILD = 'pnpm --filter @gradsync/backend-onednn run build:addon';
/** Bumped with native/addon.cc's abiVersion when the addon's functions change. */
const EXPECTED_ABI = 1;

export type BindingProbe = { ok: true; binding: OneDnnBinding; path: string } | { ok: false; why: string };

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the addon is: GRADSYNC_ONEDNN_ADDON (the AddressSanitizer build for the native tests) or build/release. */
export function addonPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.GRADSYNC_ONEDNN_ADDON ?? join(packageDir, 'build', 'release', 'gradsync_onednn.node');
}

function buildStatus(path: string): { ok?: boolean; why?: string; nodeAbi?: string } | null {
  try {
    return JSON.parse(readFileSync(join(dirname(path), 'status.json'), 'utf8'));
  } catch {
    return null;
  }
}

let cached: BindingProbe | undefined;

/**
 * Loads the addon once, or says why it cannot: not built (with the install step's reason), built
 * for another Node ABI, a oneDNN library that will not load, or an addon of another version.
 */
export function loadOneDnnBinding(path = addonPath()): BindingProbe {
  if (cached != null && path === addonPath()) return cached;
  const fix = `install ${ONEDNN_INSTALL_HINT.replace('apt-get install ', '')} (\`${ONEDNN_INSTALL_HINT}\`), then \`${ONEDNN_REBUILD}\``;
  const probe = ((): BindingProbe => {
    if (!existsSync(path)) {
      const status = buildStatus(path);
      const why = status?.ok === false && status.why ? status.why : `the oneDNN addon is not built (${path} missing); ${fix}`;
      return { ok: false, why };
    }
    const status = buildStatus(path);
    if (status?.nodeAbi != null && status.nodeAbi !== process.versions.modules) {
      return {
        ok: false,
        why: `the oneDNN addon was built for another Node version (ABI ${status.nodeAbi}, this is ${process.versions.modules}); run \`${ONEDNN_REBUILD}\``,
      };
    }
    let binding: OneDnnBinding;
    try {
      binding = createRequire(import.meta.url)(path) as OneDnnBinding;
    } catch (err) {
      const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
      const hint = /libdnnl/.test(message) ? `; ${fix}` : /NODE_MODULE_VERSION|different Node/.test(message) ? `; run \`${ONEDNN_REBUILD}\`` : '';
      return { ok: false, why: `loading the oneDNN addon failed: ${message}${hint}` };
    }
    if (binding.abiVersion !== EXPECTED_ABI) {
      return { ok: false, why: `the oneDNN addon is out of date (version ${binding.abiVersion}, need ${EXPECTED_ABI}); run \`${ONEDNN_REBUILD}\`` };
    }
    return { ok: true, binding, path };
  })();
  if (path === addonPath()) cached = probe;
  return probe;
}
