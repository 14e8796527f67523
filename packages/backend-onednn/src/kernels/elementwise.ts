import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { StepAttrs } from '@tensorflow/tfjs-core';
import { float32Inputs } from './native-kernel';
import type { NativeKernel } from './native-kernel';

const ARITHMETIC = [tf.Add, tf.Sub, tf.Multiply, tf.RealDiv, tf.Maximum, tf.Minimum, tf.SquaredDifference];
const COMPARISONS = [tf.Equal, tf.NotEqual, tf.Greater, tf.GreaterEqual, tf.Less, tf.LessEqual];
const UNARY = [tf.Relu, tf.Relu6, tf.Step, tf.Square, tf.Sqrt, tf.Rsqrt, tf.Neg, tf.Exp, tf.Log, tf.Floor, tf.Abs, tf.Reciprocal, tf.Sigmoid, tf.Tanh];

function padTo(shape: number[], rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

function binaryKernel(kernelName: string, comparison: boolean): NativeKernel {
  return {
    kernelName,
    run({ a, b }, _attrs, backend) {
      const data = float32Inputs(backend, a!, b!);
      if (data == null) return null;
      const outShape = backend_util.assertAndGetBroadcastShape(a!.shape, b!.shape);
      const rank = outShape.length;
      return backend.output(outShape, comparison ? 'bool' : 'float32', (out) =>
        backend.binding.binary(kernelName, data[0]!, padTo(a!.shape, rank), data[1]!, padTo(b!.shape, rank), out, outShape),
      );
    },
  };
}

function unaryKernel(kernelName: string): NativeKernel {
  return {
    kernelName,
    run({ x }, attrs, backend) {
      const data = float32Inputs(backend, x!);
      if (data == null) return null;
      const alpha = kernelName === tf.Step ? (attrs as unknown as StepAttrs).alpha : 0;
      return backend.output(x!.shape, 'float32', (out) => backend.binding.unary(kernelName, data[0]!, out as Float32Array, alpha));
    },
  };
}

export const elementwiseKernels: NativeKernel[] = [
  ...ARITHMETIC.map((name) => binaryKernel(name, false)),
  ...COMPARISONS.map((name) => binaryKernel(name, true)),
  ...UNARY.map(unaryKernel),
];
