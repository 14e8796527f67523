/**
 * The update rules a run may choose, on flat Float32Arrays like adam.ts, so every replica applies
 * the same bytes. All keep their state in one AdamState (m, v, t): SGD's momentum buffer is `m`
 * and leaves `v` at zero, so checkpoints and the wire format are the same for every optimizer.
 */
import { type AdamConfig, adamStep, type AdamState, KERAS_ADAM } from './adam';
import type { WeightSlot } from './weight-layout';

export const OPTIMIZER_KINDS = ['adam', 'adamw', 'sgd-nesterov'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

export interface OptimizerConfig {
  /**
   * adam: Keras' Adam (the tutorial's), weight decay added to the gradient (L2, as torch.optim.Adam);
   * adamw: Adam with decoupled weight decay (PyTorch's AdamW: w ← w·(1 − lr·wd) before the Adam step);
   * sgd-nesterov: PyTorch's SGD(momentum, nesterov=True, weight_decay) — decay added to the gradient.
   */
  kind: OptimizerKind;
  /** Applied to kernels only (conv and dense weights): never to biases or BatchNorm's scale and shift. */
  weightDecay: number;
  /** sgd-nesterov's momentum; ignored by the Adam variants (β1 = 0.9). */
  momentum: number;
}

export const SEED_OPTIMIZER: OptimizerConfig = { kind: 'adam', weightDecay: 0, momentum: 0.9 };

/** [start, end) ranges of the flat parameter vector that weight decay applies to: the kernels (rank ≥ 2). */
export function decayedRanges(slots: readonly Pick<WeightSlot, 'shape' | 'offset' | 'size'>[]): [number, number][] {
  return slots.filter((s) => s.shape.length >= 2).map((s) => [s.offset, s.offset + s.size]);
}

/** Applies one update to `params` in place; `grad` is the mean gradient and may be overwritten. */
export function optimizerStep(
  params: Float32Array,
  grad: Float32Array,
  state: AdamState,
  learningRate: number,
  config: OptimizerConfig,
  decayed: readonly [number, number][],
  adam: AdamConfig = KERAS_ADAM,
): void {
  const wd = config.weightDecay;
  if (config.kind === 'adamw') {
    if (wd > 0) for (const [a, b] of decayed) for (let i = a; i < b; i++) params[i] *= 1 - learningRate * wd;
    adamStep(params, grad, state, learningRate, adam);
    return;
  }
  if (wd > 0) for (const [a, b] of decayed) for (let i = a; i < b; i++) grad[i] += wd * params[i];
  if (config.kind === 'adam') {
    adamStep(params, grad, state, learningRate, adam);
    return;
  }
  sgdNesterovStep(params, grad, state, learningRate, config.momentum);
}

/** PyTorch's nesterov update: buf ← μ·buf + g; w ← w − lr·(g + μ·buf) (the buffer starts at 0, so the first buf is g). */
function sgdNesterovStep(params: Float32Array, grad: Float32Array, state: AdamState, learningRate: number, momentum: number): void {
  if (grad.length !== params.length || state.m.length !== params.length) {
    throw new Error(`sgdNesterovStep: gradient ${grad.length}, params ${params.length}, state ${state.m.length}`);
  }
  state.t += 1;
  const buf = state.m;
  for (let i = 0; i < params.length; i++) {
    const g = grad[i];
    const b = momentum * buf[i] + g;
    buf[i] = b;
    params[i] -= learningRate * (g + momentum * b);
  }
}
