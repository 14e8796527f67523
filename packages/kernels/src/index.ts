/** @gradsync/kernels: the names of gradsync's own kernels, and the training gradients that apply on every backend. */
export * from './kernel-names';
export { registerTrainingGradients, trainingGradients, unregisterTrainingGradients } from './gradients/register-training-gradients';
