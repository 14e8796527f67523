import { backend_util, Max, Mean, Min, Sum, util } from '@tensorflow/tfjs-core';
import type { MaxAttrs, SumAttrs } from '@tensorflow/tfjs-core';
import { float32Inputs } from './native-kernel';
import type { NativeKernel } from './native-kernel';

/**
 * Sum, Mean, Max and Min over one contiguous run of axes (all the gradient tape and batch norm
 * ask for: [0,1,2] of NHWC, the last axis, or everything); other axis sets go to the cpu kernel.
 */
function reduceKernel(kernelName: string): NativeKernel {
  return {
    kernelName,
    run({ x }, attrs, backend) {
      const data = float32Inputs(backend, x!);
      if (data == null) return null;
      const a = attrs as unknown as SumAttrs & MaxAttrs;
      const axisParam = kernelName === Max ? a.reductionIndices : a.axis;
      const axes = util.parseAxisParam(axisParam, x!.shape).sort((p, q) => p - q);
      if (axes.length === 0 || axes.some((axis, i) => axis !== axes[0]! + i)) return null;
      const shape = x!.shape;
      const first = axes[0]!,
        last = axes[axes.length - 1]!;
      const outer = util.sizeFromShape(shape.slice(0, first));
      const reduced = util.sizeFromShape(shape.slice(first, last + 1));
      const inner = util.sizeFromShape(shape.slice(last + 1));
      const [outShape] = backend_util.computeOutAndReduceShapes(shape, axes);
      const finalShape = a.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
      return backend.output(finalShape, 'float32', (out) => backend.binding.reduce(kernelName, data[0]!, out as Float32Array, outer, reduced, inner));
    },
  };
}

export const reduceKernels: NativeKernel[] = [Sum, Mean, Max, Min].map(reduceKernel);
