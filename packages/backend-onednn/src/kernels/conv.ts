import { backend_util, Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput, FusedConv2D } from '@tensorflow/tfjs-core';
import type { Conv2DAttrs, Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs, FusedConv2DAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { float32Inputs } from './native-kernel';
import type { NativeKernel } from './native-kernel';

type ConvInfo = backend_util.Conv2DInfo;

/** The geometry arguments every conv function of the addon takes, or null for NCHW. */
function geometry(info: ConvInfo): [number[], number[], number[], number[], number[], number[], number[]] | null {
  if (info.dataFormat !== 'channelsLast') return null;
  const { padInfo } = info;
  return [
    [info.batchSize, info.inHeight, info.inWidth, info.inChannels],
    [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels],
    [info.batchSize, info.outHeight, info.outWidth, info.outChannels],
    [info.strideHeight, info.strideWidth],
    [info.dilationHeight, info.dilationWidth],
    [padInfo.top, padInfo.left],
    [padInfo.bottom, padInfo.right],
  ];
}

function convInfo(xShape: number[], filterShape: number[], attrs: Partial<Conv2DAttrs>, dilations: number | [number, number] = 1): ConvInfo {
  const dataFormat = backend_util.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC');
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides!,
    dilations,
    attrs.pad!,
    attrs.dimRoundingMode,
    false,
    dataFormat,
  );
}

export const conv2DKernel: NativeKernel = {
  kernelName: Conv2D,
  run({ x, filter }, attrs, backend) {
    const a = attrs as unknown as Conv2DAttrs;
    const data = float32Inputs(backend, x!, filter!);
    const info = convInfo(x!.shape, filter!.shape, a, a.dilations);
    const g = geometry(info);
    if (data == null || g == null || x!.shape.length !== 4) return null;
    return backend.output(g[2], 'float32', (out) => backend.binding.conv2d(data[0]!, data[1]!, null, out as Float32Array, ...g, false));
  },
};

/** Inference's conv + bias + ReLU in one oneDNN primitive (training uses the unfused ops). */
export const fusedConv2DKernel: NativeKernel = {
  kernelName: FusedConv2D,
  run({ x, filter, bias, preluActivationWeights }, attrs, backend) {
    const a = attrs as unknown as FusedConv2DAttrs;
    if (preluActivationWeights != null || (a.activation !== 'linear' && a.activation !== 'relu')) return null;
    const data = float32Inputs(backend, x!, filter!);
    const info = convInfo(x!.shape, filter!.shape, a, a.dilations);
    const g = geometry(info);
    if (data == null || g == null || x!.shape.length !== 4) return null;
    let biasData: Float32Array | null = null;
    if (bias != null) {
      biasData = backend.float32(bias as TensorInfo);
      if (biasData == null || biasData.length !== info.outChannels) return null;
    }
    return backend.output(g[2], 'float32', (out) => backend.binding.conv2d(data[0]!, data[1]!, biasData, out as Float32Array, ...g, a.activation === 'relu'));
  },
};

export const conv2DBackpropInputKernel: NativeKernel = {
  kernelName: Conv2DBackpropInput,
  run({ dy, filter }, attrs, backend) {
    const a = attrs as unknown as Conv2DBackpropInputAttrs;
    const data = float32Inputs(backend, dy!, filter!);
    const info = convInfo(a.inputShape, filter!.shape, a);
    const g = geometry(info);
    if (data == null || g == null) return null;
    return backend.output(g[0], 'float32', (dx) =>
      backend.binding.conv2dBackpropInput(data[0]!, data[1]!, dx as Float32Array, g[0], g[1], g[2], g[3], g[4], g[5], g[6]),
    );
  },
};

export const conv2DBackpropFilterKernel: NativeKernel = {
  kernelName: Conv2DBackpropFilter,
  run({ x, dy }, attrs, backend) {
    const a = attrs as unknown as Conv2DBackpropFilterAttrs;
    const data = float32Inputs(backend, x!, dy!);
    const info = convInfo(x!.shape, a.filterShape, a);
    const g = geometry(info);
    if (data == null || g == null) return null;
    return backend.output(g[1], 'float32', (dw) =>
      backend.binding.conv2dBackpropFilter(data[0]!, data[1]!, dw as Float32Array, g[0], g[1], g[2], g[3], g[4], g[5], g[6]),
    );
  },
};
