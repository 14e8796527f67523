import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GradsyncError } from '@gradsync/core';
import { runScript } from './run-script';

/**
 * Writes the GPU check folder: everything `gpu-check.ts` needs on a bare Linux x64 machine with a
 * GPU and no Node packages, as plain files (no symlinks), under 64 MiB:
 *
 *   run.sh                     unpacks node, checks the Vulkan loader and drivers, runs the check
 *   node.xz                    this Node binary, xz-compressed
 *   gpu-check.mjs              gpu-check.ts and its imports (tfjs, gradsync), bundled by esbuild
 *   node_modules/webgpu/       Dawn's Node binding: index.js, package.json, dist/linux-x64/dawn.node
 *   wasm/                      tfjs-backend-wasm's .wasm binaries (the reference the kernels are checked against)
 *   vulkan/libvulkan.so.1      Debian's Vulkan loader (libvulkan1), used only when the machine lacks one
 */
export const BUNDLE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface BundleOptions {
  outDir: string;
  /** Node binary to carry; the running one by default. */
  nodeBinary?: string;
  /** xz preset (0-9); 9 is about 1 MB smaller than 6 and several times slower. */
  xzLevel?: number;
  /** A libvulkan1 .deb to carry; by default `apt-get download libvulkan1`; false: none. */
  libvulkanDeb?: string | false;
  log?: (line: string) => void;
}

export interface BundleReport {
  outDir: string;
  files: { path: string; bytes: number }[];
  totalBytes: number;
  carriesVulkanLoader: boolean;
}

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

function packageDir(name: string): string {
  return path.dirname(require.resolve(`${name}/package.json`));
}

/** `xz -c file > out`, streaming (the binary is ~100 MB). */
async function xzCompress(input: string, output: string, level: number): Promise<void> {
  const xz = spawn('xz', [`-${level}`, '-T0', '-c', input], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  xz.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    xz.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new GradsyncError('E_BUNDLE', 'xz is not installed here (Debian/Ubuntu: apt-get install xz-utils)') : err),
    );
    xz.on('close', (code) => (code === 0 ? resolve() : reject(new GradsyncError('E_BUNDLE', `xz failed (exit ${code}): ${stderr.trim()}`))));
  });
  await Promise.all([pipeline(xz.stdout, fs.createWriteStream(output)), exited]);
}

/** Bundles gpu-check.ts into one ES module; `webgpu` stays a package (it loads dawn.node from beside its index.js). */
async function bundleCode(outfile: string): Promise<void> {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [path.join(here, 'gpu-check.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['webgpu'],
    // tfjs's CommonJS files (the wasm backend's Emscripten glue) use require, __dirname, __filename.
    banner: {
      js: [
        "import { createRequire as __gsCreateRequire } from 'node:module';",
        "import { fileURLToPath as __gsFileURLToPath } from 'node:url';",
        "import { dirname as __gsDirname } from 'node:path';",
        'const require = __gsCreateRequire(import.meta.url);',
        'const __filename = __gsFileURLToPath(import.meta.url);',
        'const __dirname = __gsDirname(__filename);',
      ].join('\n'),
    },
    logLevel: 'error',
  });
}

function copyFile(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  // copyFileSync follows symlinks: the bundle holds plain files only.
  fs.copyFileSync(from, to);
}

/** Debian's libvulkan1 unpacked; the real library file (not its symlink) copied as vulkan/libvulkan.so.1. */
function carryVulkanLoader(outDir: string, deb: string | undefined, log: (line: string) => void): boolean {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gradsync-libvulkan-'));
  try {
    let debPath = deb;
    if (debPath == null) {
      const got = spawnSync('apt-get', ['download', 'libvulkan1'], { cwd: work, encoding: 'utf8' });
      debPath = fs.readdirSync(work).find((f) => f.endsWith('.deb'));
      if (got.status !== 0 || debPath == null) {
        log(`not carrying the Vulkan loader: apt-get download libvulkan1 failed (${(got.stderr || String(got.error ?? '')).trim().split('\n').pop()})`);
        return false;
      }
      debPath = path.join(work, debPath);
    }
    const root = path.join(work, 'root');
    const x = spawnSync('dpkg-deb', ['-x', debPath, root], { encoding: 'utf8' });
    if (x.status !== 0) {
      log(`not carrying the Vulkan loader: dpkg-deb -x ${debPath} failed (${(x.stderr || String(x.error ?? '')).trim()})`);
      return false;
    }
    const libDir = path.join(root, 'usr/lib/x86_64-linux-gnu');
    const real = fs.realpathSync(path.join(libDir, 'libvulkan.so.1'));
    copyFile(real, path.join(outDir, 'vulkan/libvulkan.so.1'));
    const copyright = path.join(root, 'usr/share/doc/libvulkan1/copyright');
    if (fs.existsSync(copyright)) copyFile(copyright, path.join(outDir, 'vulkan/copyright'));
    fs.writeFileSync(path.join(outDir, 'vulkan/VERSION'), `${path.basename(real)} from ${path.basename(debPath)}\n`);
    return true;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function listFiles(dir: string, base = dir): { path: string; bytes: number; symlink: boolean }[] {
  const out: { path: string; bytes: number; symlink: boolean }[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, base));
    else out.push({ path: path.relative(base, full), bytes: fs.lstatSync(full).size, symlink: entry.isSymbolicLink() });
  }
  return out;
}

export async function bundleGpuCheck(o: BundleOptions): Promise<BundleReport> {
  const log = o.log ?? (() => {});
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new GradsyncError('E_BUNDLE', `the GPU check folder is for Linux x64 and carries this Node binary; this is ${process.platform} ${process.arch}`);
  }
  const outDir = path.resolve(o.outDir);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });

  log('bundling gpu-check.ts with esbuild...');
  await bundleCode(path.join(outDir, 'gpu-check.mjs'));

  const webgpu = packageDir('webgpu');
  for (const f of ['package.json', 'index.js', 'LICENSE.md', 'dist/linux-x64/dawn.node']) {
    copyFile(path.join(webgpu, f), path.join(outDir, 'node_modules/webgpu', f));
  }
  const wasmDist = path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist');
  // Single-threaded builds only (see backend/wasm-setup.ts).
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) copyFile(path.join(wasmDist, f), path.join(outDir, 'wasm', f));

  const carriesVulkanLoader = o.libvulkanDeb === false ? false : carryVulkanLoader(outDir, o.libvulkanDeb, log);

  const node = o.nodeBinary ?? process.execPath;
  log(`compressing ${node} (${process.version}) with xz...`);
  await xzCompress(node, path.join(outDir, 'node.xz'), o.xzLevel ?? 6);

  fs.writeFileSync(path.join(outDir, 'run.sh'), runScript({ nodeVersion: process.version }), { mode: 0o755 });

  const files = listFiles(outDir);
  const links = files.filter((f) => f.symlink);
  if (links.length > 0) throw new GradsyncError('E_BUNDLE', `the folder must hold plain files only; symlinks: ${links.map((f) => f.path).join(', ')}`);
  const totalBytes = files.reduce((sum, f) => sum + f.bytes, 0);
  if (totalBytes > BUNDLE_LIMIT_BYTES) {
    throw new GradsyncError('E_BUNDLE', `the folder is ${(totalBytes / 2 ** 20).toFixed(1)} MiB, over the 64 MiB limit`);
  }
  return { outDir, files: files.map(({ path: p, bytes }) => ({ path: p, bytes })).sort((a, b) => b.bytes - a.bytes), totalBytes, carriesVulkanLoader };
}
