/**
 * Profiles one training step of the seed CNN (the tutorial's Keras network): images per second,
 * then the time per kernel.
 *
 *   pnpm profile [--backend auto] [--threads N] [--tfjs-step] [--batch 64] [--steps 20]
 *       [--warmup 3] [--profile-steps 3] [--kernels all|none|Name,Name] [--top 15] [--ladder]
 *
 * It profiles the worker's own step (Replica: augmentation, forward + backward, packing, JS Adam);
 * `--tfjs-step` profiles a plain tfjs step with tfjs's Adam instead.
 *
 * The plain tfjs step (--tfjs-step): forward in training mode (dropout on, BatchNorm batch
 * statistics), softmax cross-entropy, tf.variableGrads, tfjs Adam's applyGradients.
 *
 * `--kernels` picks which of this folder's wasm training kernels are registered (wasm only);
 * Conv2DBackpropFilter is needed for training on wasm at all.
 * `--ladder` measures the effect of each kernel: it adds them one at a time (in registration
 * order), then the Sum/Mean gradients, and runs the variants round-robin, one step each per round,
 * so that load from other processes on a shared machine falls on all variants alike; it prints the
 * median and best step of each.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Option } from 'commander';
import { backendRequests, selectBackend } from '@gradsync/backends';
import { isNativeKernel, lastRun, ONEDNN_BACKEND } from '@gradsync/backend-onednn';
import { buildModel, MODEL_NAMES, type ModelName, Replica, augmentParamsFor, SEED_AUGMENT, intOption } from '@gradsync/train';
import type { BackendRequest } from '@gradsync/backends';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels, wasmTrainingKernels } from '@gradsync/backend-wasm';
import { registerTrainingGradients, unregisterTrainingGradients } from '@gradsync/kernels';
import { median } from '@gradsync/core';
import { runCli, gradsyncProgram } from '@gradsync/core/node';

interface ProfileConfig {
  backend: BackendRequest;
  model: ModelName;
  batch: number;
  steps: number;
  warmup: number;
  profileSteps: number;
  kernels: string;
  top: number;
  ladder: boolean;
  /** onednn's threads. */
  threads?: number;
  /** Profile the worker's step (Replica: augmentation, step, packing, Adam) instead of tfjs Adam. */
  worker: boolean;
}

function readConfig(): ProfileConfig {
  const program = gradsyncProgram('pnpm profile')
    .description('Profiles one training step of a zoo model (default the seed CNN): images per second, then the time per kernel and which backend ran it.')
    .addOption(new Option('--model <name>', 'model').choices(MODEL_NAMES).default('seed-cnn'))
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(backendRequests as readonly string[]).default('auto'))
    .option('--threads <n>', "onednn's CPU threads (default: all cores)", intOption('--threads', 1))
    .option('--tfjs-step', "profile a plain tfjs step with tfjs's Adam instead of the worker's own step")
    .option('--batch <n>', 'batch size', intOption('--batch', 1), 64)
    .option('--steps <n>', 'timed steps (rounds with --ladder)', intOption('--steps', 1), 20)
    .option('--warmup <n>', 'untimed steps first', intOption('--warmup', 0), 3)
    .option('--profile-steps <n>', 'steps under tf.profile', intOption('--profile-steps', 1), 3)
    .option('--kernels <list>', 'which wasm training kernels to register: all, none, or Name,Name (wasm only)', 'all')
    .option('--top <n>', 'rows of each kernel table', intOption('--top', 1), 15)
    .option('--ladder', 'add the wasm kernels one at a time and time each variant round-robin');
  program.parse();
  const o = program.opts();
  return {
    backend: o.backend as BackendRequest,
    model: o.model as ModelName,
    batch: o.batch,
    steps: o.steps,
    warmup: o.warmup,
    profileSteps: o.profileSteps,
    kernels: o.kernels,
    top: o.top,
    ladder: Boolean(o.ladder),
    threads: o.threads,
    worker: !o.tfjsStep,
  };
}

function useKernels(names: readonly string[] | 'all' | 'none'): string {
  if (tf.getBackend() !== 'wasm') return 'n/a (not wasm)';
  unregisterWasmTrainingKernels();
  if (names === 'none') return 'none';
  return registerWasmTrainingKernels(names === 'all' ? undefined : names).join(', ');
}

interface StepTiming {
  wallMs: number;
  cpuMs: number;
}

async function timed(step: () => Promise<number> | number): Promise<StepTiming> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await step();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function describe(batch: number, timings: StepTiming[]): string {
  const wall = median(timings.map((t) => t.wallMs));
  const best = Math.min(...timings.map((t) => t.wallMs));
  const cpu = median(timings.map((t) => t.cpuMs));
  const rate = (ms: number) => ((1000 * batch) / ms).toFixed(1);
  return `median ${wall.toFixed(0)} ms/step = ${rate(wall)} img/s, best ${best.toFixed(0)} ms = ${rate(best)} img/s, ` + `CPU ${cpu.toFixed(0)} ms/step`;
}

/** Who ran a profiled kernel: the addon, the cpu fallback, or (for `name__op`) a composite op. */
function whichBackendRan(kernelName: string): string {
  if (kernelName.endsWith('__op')) return 'composite';
  if (tf.getBackend() !== ONEDNN_BACKEND) return tf.getBackend();
  return lastRun.get(kernelName) ?? (isNativeKernel(kernelName) ? ONEDNN_BACKEND : 'cpu');
}

async function main(): Promise<void> {
  const config = readConfig();
  const selection = await selectBackend({ backend: config.backend, threads: config.threads });
  console.log(selection.summary);

  const model = buildModel(config.model, 1);
  const optimizer = tf.train.adam(1e-3);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = tf.randomUniform([config.batch, 32, 32, 3], 0, 1);
  const labels = tf.oneHot(tf.randomUniform([config.batch], 0, 10, 'int32') as tf.Tensor1D, 10);

  const tfjsStep = (): number =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const logits = model.apply(x, { training: true }) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
      }, variables);
      optimizer.applyGradients(grads as tf.NamedTensorMap as Record<string, tf.Variable>);
      return value.dataSync()[0]!;
    });

  // The worker's own step: augmentation, forward + backward, packing into one buffer, JS Adam.
  const replica = config.worker ? new Replica(model) : null;
  const images = new Uint8Array(config.batch * 3072).map((_, i) => (i * 131) % 256);
  const labelBytes = new Uint8Array(config.batch).map((_, i) => i % 10);
  const augment = Array.from({ length: config.batch }, (_, i) => augmentParamsFor(SEED_AUGMENT, 1, 0, i));
  const workerStep = async (): Promise<number> => {
    const out = await replica!.computeStep({ images, labels: labelBytes, augment });
    replica!.applySummed(out.buffer, out.count, 1e-3);
    return out.loss;
  };
  const step = config.worker ? workerStep : tfjsStep;

  if (config.ladder) {
    const names = wasmTrainingKernels.map((k) => k.kernelName);
    const variants = names.map((name, i) => ({ label: name, kernels: names.slice(0, i + 1), gradients: false }));
    variants.push({ label: 'Sum/Mean gradients', kernels: names, gradients: true });
    const apply = (v: (typeof variants)[number]) => {
      useKernels(v.kernels);
      if (v.gradients) registerTrainingGradients();
      else unregisterTrainingGradients();
    };
    const timings = variants.map((): StepTiming[] => []);
    for (const v of variants) {
      apply(v);
      for (let i = 0; i < config.warmup; i++) await step();
    }
    for (let round = 0; round < config.steps; round++) {
      for (const [i, v] of variants.entries()) {
        apply(v);
        timings[i]!.push(await timed(step));
      }
    }
    console.log(`\n${config.steps} rounds, batch ${config.batch}; each line adds one kernel (or the gradients):`);
    variants.forEach((v, i) => console.log(`+ ${v.label.padEnd(22)} ${describe(config.batch, timings[i]!)}`));
    apply(variants[variants.length - 1]!);
    return;
  }

  const kernels = config.kernels === 'all' || config.kernels === 'none' ? config.kernels : config.kernels.split(',');
  console.log(`wasm training kernels: ${useKernels(kernels)}`);
  for (let i = 0; i < config.warmup; i++) await step();
  const tensorsBefore = tf.memory().numTensors;
  const timings: StepTiming[] = [];
  for (let i = 0; i < config.steps; i++) timings.push(await timed(step));
  const leaked = (tf.memory().numTensors - tensorsBefore) / config.steps;
  const totalWall = timings.reduce((a, t) => a + t.wallMs, 0);
  console.log(
    `${config.steps} steps of batch ${config.batch}: ${((1000 * config.steps * config.batch) / totalWall).toFixed(1)} img/s overall; ` +
      `${describe(config.batch, timings)}; tensors leaked/step ${leaked}`,
  );

  // Per-kernel breakdown over a few profiled steps (profiling adds bookkeeping, so the rates
  // above come from the unprofiled loop).
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
  const wallStart = performance.now();
  const profile = await tf.profile(async () => {
    for (let i = 0; i < config.profileSteps; i++) await step();
  });
  const wallMs = (performance.now() - wallStart) / config.profileSteps;
  const byName = new Map<string, { ms: number; calls: number }>();
  const byShape = new Map<string, { ms: number; calls: number }>();
  const add = (rows: Map<string, { ms: number; calls: number }>, key: string, ms: number) => {
    const row = rows.get(key) ?? { ms: 0, calls: 0 };
    row.ms += ms;
    row.calls += 1 / config.profileSteps;
    rows.set(key, row);
  };
  for (const k of profile.kernels) {
    const ms = (k.kernelTimeMs as number) / config.profileSteps;
    add(byName, k.name, ms);
    add(byShape, `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')}`, ms);
  }
  const kernelMs = [...byName.values()].reduce((a, b) => a + b.ms, 0);
  console.log(
    `\nper profiled step: ${wallMs.toFixed(1)} ms wall, ${kernelMs.toFixed(1)} ms in kernels ` +
      `(the rest is JavaScript: tape, tidy, engine bookkeeping, profiling)`,
  );
  console.log(
    '\n(the column after the call count says which backend ran the kernel: on onednn, "onednn" is the addon,\n "cpu" the cpu backend\'s kernel on the same storage; "composite" is an op made of the kernels listed)',
  );
  const table = (rows: Map<string, { ms: number; calls: number }>, title: string) => {
    console.log(`\n${title}`);
    const sorted = [...rows.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, config.top);
    for (const [key, { ms, calls }] of sorted) {
      const share = ((100 * ms) / kernelMs).toFixed(1);
      const ranOn = whichBackendRan(key.split(' ')[0]!);
      console.log(`${ms.toFixed(2).padStart(8)} ms ${share.padStart(5)}%  ${String(Math.round(calls)).padStart(3)}x  ${ranOn.padEnd(12)} ${key}`);
    }
  };
  table(byName, 'kernel time per step, by kernel:');
  table(byShape, 'kernel time per step, by kernel and input shapes:');
}

await runCli(main);
