#!/usr/bin/env node
// Compiles the oneDNN addon from native/*.cc against the system oneDNN (Debian/Ubuntu
// `libdnnl-dev`) and the Node headers of the running Node install; nothing is downloaded.
// Runs at `pnpm install`. It never fails the install: when the compiler, oneDNN or the headers
// are missing it writes build/status.json with the reason and what to install, which the
// backend's loader reports at run time.
//
//   node scripts/build-addon.mjs [--asan] [--quiet] [--force]
//     --asan   AddressSanitizer build into build/asan/ (for the native tests; run with LD_PRELOAD of libasan)
//     --force  rebuild even when the addon is newer than its sources
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const asan = process.argv.includes('--asan');
const outDir = join(packageDir, 'build', asan ? 'asan' : 'release');
const statusFile = join(outDir, 'status.json');
export const INSTALL_HINT = 'apt-get install g++ libdnnl-dev';
const REBUILD = 'pnpm --filter @gradsync/backend-onednn run build:addon';

function writeStatus(status) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(statusFile, `${JSON.stringify({ ...status, nodeAbi: process.versions.modules, at: new Date().toISOString() }, null, 2)}\n`);
}

function give_up(why) {
  writeStatus({ ok: false, why: `${why}; install it with \`${INSTALL_HINT}\`, then \`${REBUILD}\`` });
  console.log(`@gradsync/backend-onednn: not built: ${why} (install: ${INSTALL_HINT}; then ${REBUILD}). The other backends still work.`);
  process.exit(0);
}

function which(command) {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

// Up to date: built by this Node ABI after every source and this script last changed.
const target = join(outDir, 'gradsync_onednn.node');
if (existsSync(target) && !process.argv.includes('--force')) {
  try {
    const status = JSON.parse(readFileSync(statusFile, 'utf8'));
    const inputs = [...readdirSync(join(packageDir, 'native')).map((f) => join(packageDir, 'native', f)), fileURLToPath(import.meta.url)];
    const builtAt = statSync(target).mtimeMs;
    if (status.ok && status.nodeAbi === process.versions.modules && inputs.every((f) => statSync(f).mtimeMs < builtAt)) {
      console.log(`@gradsync/backend-onednn: addon up to date (${target})`);
      process.exit(0);
    }
  } catch {
    // No readable status: build.
  }
}

const compiler = process.env.CXX ? which(process.env.CXX) : which('g++') || which('c++');
if (!compiler) give_up(process.env.CXX ? `the C++ compiler CXX=${process.env.CXX} was not found` : 'no C++ compiler (g++)');

const nodeInclude = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'].find((dir) =>
  existsSync(join(dir, 'node_api.h')),
);
if (!nodeInclude) give_up(`Node's headers (node_api.h) are not next to ${process.execPath}`);

const dnnlInclude = ['/usr/include/oneapi/dnnl', '/usr/include', '/usr/local/include/oneapi/dnnl', '/usr/local/include'].find((dir) =>
  existsSync(join(dir, 'dnnl.hpp')),
);
if (!dnnlInclude) give_up('oneDNN headers (dnnl.hpp, Debian package libdnnl-dev) not found');

let addonApiInclude;
try {
  addonApiInclude = createRequire(join(packageDir, 'package.json'))('node-addon-api').include_dir;
} catch {
  give_up('the npm package node-addon-api is missing (run pnpm install)');
}

const flags = [
  '-std=c++17',
  '-fPIC',
  '-fopenmp',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-Wno-unused-parameter',
  '-DNAPI_VERSION=8',
  '-DNAPI_CPP_EXCEPTIONS',
  '-DNODE_ADDON_API_DISABLE_DEPRECATED',
  `-I${nodeInclude}`,
  `-I${addonApiInclude}`,
  `-I${dnnlInclude}`,
  // The addon is compiled on the machine that runs it (at install), so it may use all of this
  // CPU's vector units (AVX2 / AVX-512) in the element-wise loops; oneDNN picks its own at run time.
  ...(asan ? ['-O1', '-g', '-fsanitize=address', '-fno-omit-frame-pointer'] : ['-O3', '-march=native']),
];
const sources = readdirSync(join(packageDir, 'native'))
  .filter((f) => f.endsWith('.cc'))
  .sort();
const objDir = join(outDir, 'obj');
rmSync(objDir, { recursive: true, force: true });
mkdirSync(objDir, { recursive: true });

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(compiler, args, { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ code: -1, output: String(err) }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

const quiet = process.argv.includes('--quiet');
if (!quiet)
  console.log(
    `@gradsync/backend-onednn: compiling ${sources.length} files with ${compiler} against oneDNN in ${dnnlInclude}${asan ? ' (AddressSanitizer)' : ''}`,
  );
const queue = [...sources];
const failures = [];
await Promise.all(
  Array.from({ length: Math.max(1, Math.min(cpus().length, 4)) }, async () => {
    for (let source = queue.shift(); source != null; source = queue.shift()) {
      const result = await run([...flags, '-c', join('native', source), '-o', join(objDir, source.replace(/\.cc$/, '.o'))]);
      if (result.code !== 0) failures.push(`${source}:\n${result.output}`);
    }
  }),
);
if (failures.length > 0) {
  // A compile error in our own code is a bug to see, not a missing package: print it whole.
  console.error(failures.join('\n'));
  give_up(`compiling native/${failures[0].split(':')[0]} failed (see above)`);
}
const objects = sources.map((s) => join(objDir, s.replace(/\.cc$/, '.o')));
const link = await run([...(asan ? ['-fsanitize=address'] : []), '-shared', '-fopenmp', '-o', `${target}.tmp`, ...objects, '-ldnnl']);
if (link.code !== 0) {
  console.error(link.output);
  give_up(/cannot find -ldnnl/.test(link.output) ? 'the oneDNN library (libdnnl.so, Debian package libdnnl-dev) is missing' : 'linking failed (see above)');
}
renameSync(`${target}.tmp`, target);
rmSync(objDir, { recursive: true, force: true });
writeStatus({ ok: true, compiler, dnnlInclude });
if (!quiet) console.log(`@gradsync/backend-onednn: built ${target}`);
