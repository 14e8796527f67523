import { backend_util, MaxPool, MaxPoolGrad } from '@tensorflow/tfjs-core';
import type { MaxPoolAttrs, MaxPoolGradAttrs } from '@tensorflow/tfjs-core';
import { float32Inputs } from './native-kernel';
import type { NativeKernel } from './native-kernel';

function poolInfo(xShape: number[], attrs: MaxPoolAttrs | MaxPoolGradAttrs): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(xShape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
}

function windowArgs(info: backend_util.Conv2DInfo): [number[], number[], number[]] {
  return [
    [info.filterHeight, info.filterWidth],
    [info.strideHeight, info.strideWidth],
    [info.padInfo.top, info.padInfo.left],
  ];
}

export const maxPoolKernel: NativeKernel = {
  kernelName: MaxPool,
  run({ x }, attrs, backend) {
    const data = float32Inputs(backend, x!);
    if (data == null || x!.shape.length !== 4) return null;
    const info = poolInfo(x!.shape, attrs as unknown as MaxPoolAttrs);
    return backend.output(info.outShape, 'float32', (out) =>
      backend.binding.maxPool(data[0]!, out as Float32Array, x!.shape, info.outShape, ...windowArgs(info)),
    );
  },
};

export const maxPoolGradKernel: NativeKernel = {
  kernelName: MaxPoolGrad,
  run({ dy, input }, attrs, backend) {
    const data = float32Inputs(backend, dy!, input!);
    if (data == null || input!.shape.length !== 4) return null;
    const info = poolInfo(input!.shape, attrs as unknown as MaxPoolGradAttrs);
    return backend.output(input!.shape, 'float32', (dx) =>
      backend.binding.maxPoolGrad(data[0]!, data[1]!, dx as Float32Array, input!.shape, dy!.shape, ...windowArgs(info)),
    );
  },
};
