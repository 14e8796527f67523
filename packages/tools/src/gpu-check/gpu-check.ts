/**
 * The GPU check (run by `run.sh` in the folder `pnpm bundle:gpu-check` writes; also runs from the
 * repository with `npx tsx packages/tools/src/gpu-check/gpu-check.ts`): which WebGPU adapters Dawn
 * sees, the chosen one's details, the training kernels on webgpu against wasm, and seed-cnn
 * training img/s at a few batch sizes.
 *
 * Options: --gpu N (Dawn's adapter N), --batches 64,256,1024, --reps 5, --warmup 2,
 * --kernel-batch 8, --wasm-dir DIR (the .wasm files when the package is not installed).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs-layers';
import { configureWasmBackend } from '@gradsync/backend-wasm/node';
import { selectBackend } from '@gradsync/backends';
import { activeWebGpu, releaseWebGpuBackend, listAdapters, nodeWebGpuDeps, dawnBackendLabel, featureLevelFor } from '@gradsync/backend-webgpu';
import { GradsyncError } from '@gradsync/core';
import { runCli } from '@gradsync/core/node';
import { compareKernels, kernelCases } from './kernel-checks';
import { trainThroughput } from './train-throughput';

const say = (line = '') => process.stdout.write(`${line}\n`);

function ints(flag: string, text: string, min: number): number[] {
  const values = text.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
  if (values.some((v) => !Number.isInteger(v) || v < min)) {
    throw new GradsyncError('E_ARGS', `${flag} takes integers >= ${min} (comma-separated where several), got '${text}'`);
  }
  return values;
}

await runCli(async () => {
  const { values } = parseArgs({
    options: {
      gpu: { type: 'string' },
      batches: { type: 'string', default: '64,256,1024' },
      reps: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      'kernel-batch': { type: 'string', default: '8' },
      'wasm-dir': { type: 'string' },
    },
  });
  const gpu = values.gpu != null ? ints('--gpu', values.gpu, 0)[0] : undefined;
  const batches = ints('--batches', values.batches!, 1);
  const [reps] = ints('--reps', values.reps!, 1);
  const [warmup] = ints('--warmup', values.warmup!, 0);
  const [kernelBatch] = ints('--kernel-batch', values['kernel-batch']!, 1);
  // Bundled: the .wasm files sit in ./wasm beside this script.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const wasmDir = values['wasm-dir'] ?? (fs.existsSync(path.join(here, 'wasm')) ? path.join(here, 'wasm') : undefined);

  say(`gradsync GPU check: Node ${process.version}, ${process.platform} ${process.arch}`);
  say();
  say("WebGPU adapters Dawn lists (Dawn's own warnings, if any, are printed above):");
  const dawn = await nodeWebGpuDeps.loadDawn();
  for (const backend of ['vulkan', 'opengles']) {
    if (featureLevelFor(backend) === 'compatibility' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
    const list = await listAdapters(dawn, backend, { featureLevel: featureLevelFor(backend), powerPreference: 'high-performance' }).catch((err: Error) => err);
    if (list instanceof Error) say(`  ${dawnBackendLabel(backend)}: ${list.message}`);
    else if (list.length === 0) say(`  ${dawnBackendLabel(backend)}: none`);
    else for (const e of list) say(`  ${dawnBackendLabel(backend)} ${e.index}: ${e.name}`);
  }
  say();

  await configureWasmBackend(wasmDir);
  await selectBackend({ backend: 'wasm' });
  const selection = await selectBackend({ backend: 'webgpu', gpu });
  const setup = activeWebGpu()!;
  say(selection.summary);
  say(
    `adapter: vendor '${setup.info.vendor}', architecture '${setup.info.architecture}', device '${setup.info.device}', description '${setup.info.description}'`,
  );
  say(
    `limits: ${Object.entries(setup.limits)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );
  say(`features: ${setup.features.join(', ') || 'none'}`);
  say();

  say(`kernels, webgpu against wasm (seed-cnn shapes, batch ${kernelBatch}; ok when max |diff| <= 1e-3 of the largest value):`);
  const checks = await compareKernels('webgpu', 'wasm', kernelCases(kernelBatch));
  for (const c of checks) {
    say(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(46)} max |diff| ${c.maxAbsDiff.toExponential(2)}  relative ${c.relativeDiff.toExponential(2)}`);
  }
  say();

  say(`seed-cnn training on webgpu (${selection.device}), median of ${reps} steps after ${warmup} warm-up:`);
  say(`  ${'batch'.padStart(6)}${'ms/step'.padStart(12)}${'img/s'.padStart(10)}`);
  let failed = checks.some((c) => !c.ok);
  for (const batchSize of batches) {
    try {
      const r = await trainThroughput({ model: 'seed-cnn', batchSize, warmup: warmup!, reps: reps! });
      say(`  ${String(batchSize).padStart(6)}${r.medianMs.toFixed(1).padStart(12)}${r.imagesPerSec.toFixed(1).padStart(10)}`);
    } catch (err) {
      failed = true;
      say(`  ${String(batchSize).padStart(6)}  failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  releaseWebGpuBackend();
  if (failed) throw new GradsyncError('E_GPU_CHECK', 'some checks failed (see above)');
});
