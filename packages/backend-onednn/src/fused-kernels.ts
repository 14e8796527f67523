/**
 * The fused kernels' names and the check for them, apart from the addon loader: what model layers
 * need to choose their path, importable where no Node addon can be (a browser tab worker).
 */
export { BATCH_NORM_TRAINING, DROPOUT, hasKernel, RELU_GRAD } from './kernels/fused-training';
export { CONV2D_BIAS_RELU } from './kernels/conv-bias-relu';
