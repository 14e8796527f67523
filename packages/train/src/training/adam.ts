/**
 * Adam on flat Float32Arrays, exactly Keras' or exactly PyTorch's update. Pure and backend-free,
 * so every replica computes the same bytes from the same averaged gradient.
 */
export interface AdamConfig {
  beta1: number;
  beta2: number;
  epsilon: number;
  /**
   * Where epsilon goes. keras: bias correction folded into the step size, epsilon added to √v
   * (tf.keras' Adam); pytorch: epsilon added to √v̂, the bias-corrected √v (torch.optim.Adam).
   * Keras' epsilon is so in effect √(1 − β2^t) times smaller early on.
   */
  epsilonOn: 'v' | 'v-hat';
}

export const KERAS_ADAM: AdamConfig = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, epsilonOn: 'v' };
export const PYTORCH_ADAM: AdamConfig = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, epsilonOn: 'v-hat' };

export interface AdamState {
  m: Float32Array;
  v: Float32Array;
  /** Number of updates applied so far. */
  t: number;
}

export function createAdamState(size: number): AdamState {
  return { m: new Float32Array(size), v: new Float32Array(size), t: 0 };
}

/** Applies one Adam update to `params` in place. */
export function adamStep(params: Float32Array, grad: Float32Array, state: AdamState, learningRate: number, config: AdamConfig = KERAS_ADAM): void {
  if (grad.length !== params.length || state.m.length !== params.length) {
    throw new Error(`adamStep: gradient ${grad.length}, params ${params.length}, state ${state.m.length}`);
  }
  const { beta1, beta2 } = config;
  state.t += 1;
  const t = state.t;
  const stepSize = (learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
  // PyTorch's (√v / √(1 − β2^t) + ε) is Keras' form with ε scaled by √(1 − β2^t).
  const epsilon = config.epsilonOn === 'v' ? config.epsilon : config.epsilon * Math.sqrt(1 - beta2 ** t);
  const { m, v } = state;
  for (let i = 0; i < params.length; i++) {
    const g = grad[i];
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] -= (stepSize * mi) / (Math.sqrt(vi) + epsilon);
  }
}
