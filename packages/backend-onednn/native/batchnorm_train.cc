// Batch normalisation in training mode over NHWC, fused: forward gives y, the batch mean and the
// (biased) batch variance in two passes; backward gives dx, dgamma and dbeta in two passes with
// the closed form dx = gamma/sigma * (dy - mean(dy) - xhat * mean(dy * xhat)). tfjs's own
// decomposition of the same gradient makes ~25 full passes over the activation.
#include <omp.h>

#include <cmath>
#include <vector>

#include "args.h"

namespace gradsync {

namespace {

// Per-channel sums over the rows of a [rows, c] array. Each thread sums a fixed block of rows:
// `row(r, acc)` adds one row into float accumulators (restrict-qualified, so the channel loop
// vectorises), flushed into double every 64 rows; thread blocks are then added in order, so the
// result depends on the thread count only, not on scheduling.
template <typename RowFn>
void ChannelSums(int64_t rows, int64_t c, int sums, std::vector<double>& out, RowFn row) {
  int threads = rows * c > 32768 ? omp_get_max_threads() : 1;
  size_t width = static_cast<size_t>(sums) * c;
  std::vector<double> partial(static_cast<size_t>(threads) * width, 0.0);
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num();
    int64_t begin = rows * t / threads, end = rows * (t + 1) / threads;
    double* total = partial.data() + static_cast<size_t>(t) * width;
    std::vector<float> block(width, 0.f);
    for (int64_t r = begin; r < end; r++) {
      row(r, block.data());
      if ((r - begin) % 64 == 63 || r == end - 1) {
        for (size_t i = 0; i < width; i++) {
          total[i] += block[i];
          block[i] = 0.f;
        }
      }
    }
  }
  out.assign(width, 0.0);
  for (int t = 0; t < threads; t++)
    for (size_t i = 0; i < width; i++) out[i] += partial[static_cast<size_t>(t) * width + i];
}

// batchNormTrain(x, gamma, beta, y, mean, variance, channels, epsilon)
Napi::Value BatchNormTrain(const Napi::CallbackInfo& info) {
  RequireArgs(info, 8, "batchNormTrain");
  Napi::Env env = info.Env();
  int64_t c = ArgInt(info, 6, "channels", 1, int64_t(1) << 30);
  F32 x = ArgF32(info, 0, "x");
  if (x.length == 0 || x.length % c != 0) ThrowType(env, "batchNormTrain: x does not hold whole rows of channels");
  F32 gamma = OptionalF32(info, 1, "gamma", c), beta = OptionalF32(info, 2, "beta", c);
  F32 y = ArgF32(info, 3, "y", x.length), mean = ArgF32(info, 4, "mean", c), var = ArgF32(info, 5, "variance", c);
  double eps = ArgNumber(info, 7, "epsilon");
  int64_t rows = static_cast<int64_t>(x.length) / c;
  std::vector<double> sums;
  ChannelSums(rows, c, 1, sums, [&](int64_t r, float* __restrict acc) {
    const float* px = x.data + r * c;
    for (int64_t ch = 0; ch < c; ch++) acc[ch] += px[ch];
  });
  std::vector<float> mu(c), scale(c), shift(c);
  for (int64_t ch = 0; ch < c; ch++) mu[ch] = static_cast<float>(sums[ch] / rows);
  // Variance from centred values (two passes), not E[x^2] - E[x]^2, which cancels badly.
  ChannelSums(rows, c, 1, sums, [&](int64_t r, float* __restrict acc) {
    const float* __restrict px = x.data + r * c;
    const float* __restrict m = mu.data();
    for (int64_t ch = 0; ch < c; ch++) {
      float d = px[ch] - m[ch];
      acc[ch] += d * d;
    }
  });
  for (int64_t ch = 0; ch < c; ch++) {
    double v = sums[ch] / rows;
    mean.data[ch] = mu[ch];
    var.data[ch] = static_cast<float>(v);
    float inv = static_cast<float>(1.0 / std::sqrt(v + eps));
    scale[ch] = (gamma.data ? gamma.data[ch] : 1.f) * inv;
    shift[ch] = (beta.data ? beta.data[ch] : 0.f) - mu[ch] * scale[ch];
  }
#pragma omp parallel for schedule(static) if (rows * c > 32768)
  for (int64_t r = 0; r < rows; r++) {
    const float* px = x.data + r * c;
    float* py = y.data + r * c;
    for (int64_t ch = 0; ch < c; ch++) py[ch] = px[ch] * scale[ch] + shift[ch];
  }
  return env.Undefined();
}

// batchNormTrainGrad(x, dy, gamma, mean, variance, dx, dgamma, dbeta, channels, epsilon)
Napi::Value BatchNormTrainGrad(const Napi::CallbackInfo& info) {
  RequireArgs(info, 10, "batchNormTrainGrad");
  Napi::Env env = info.Env();
  int64_t c = ArgInt(info, 8, "channels", 1, int64_t(1) << 30);
  F32 x = ArgF32(info, 0, "x");
  if (x.length == 0 || x.length % c != 0) ThrowType(env, "batchNormTrainGrad: x does not hold whole rows of channels");
  F32 dy = ArgF32(info, 1, "dy", x.length);
  F32 gamma = OptionalF32(info, 2, "gamma", c);
  F32 mean = ArgF32(info, 3, "mean", c), var = ArgF32(info, 4, "variance", c);
  F32 dx = ArgF32(info, 5, "dx", x.length), dgamma = ArgF32(info, 6, "dgamma", c), dbeta = ArgF32(info, 7, "dbeta", c);
  double eps = ArgNumber(info, 9, "epsilon");
  int64_t rows = static_cast<int64_t>(x.length) / c;
  std::vector<float> inv(c);
  for (int64_t ch = 0; ch < c; ch++) inv[ch] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var.data[ch]) + eps));
  // sums[0..c): sum(dy); sums[c..2c): sum(dy * xhat)
  std::vector<double> sums;
  ChannelSums(rows, c, 2, sums, [&](int64_t r, float* __restrict acc) {
    const float* __restrict px = x.data + r * c;
    const float* __restrict pd = dy.data + r * c;
    const float* __restrict m = mean.data;
    const float* __restrict iv = inv.data();
    float* __restrict accXhat = acc + c;
    for (int64_t ch = 0; ch < c; ch++) {
      acc[ch] += pd[ch];
      accXhat[ch] += pd[ch] * ((px[ch] - m[ch]) * iv[ch]);
    }
  });
  std::vector<float> meanDy(c), meanDyXhat(c), k(c);
  for (int64_t ch = 0; ch < c; ch++) {
    dbeta.data[ch] = static_cast<float>(sums[ch]);
    dgamma.data[ch] = static_cast<float>(sums[c + ch]);
    meanDy[ch] = static_cast<float>(sums[ch] / rows);
    meanDyXhat[ch] = static_cast<float>(sums[c + ch] / rows);
    k[ch] = (gamma.data ? gamma.data[ch] : 1.f) * inv[ch];
  }
#pragma omp parallel for schedule(static) if (rows * c > 32768)
  for (int64_t r = 0; r < rows; r++) {
    const float* px = x.data + r * c;
    const float* pd = dy.data + r * c;
    float* po = dx.data + r * c;
    for (int64_t ch = 0; ch < c; ch++) {
      float xhat = (px[ch] - mean.data[ch]) * inv[ch];
      po[ch] = k[ch] * (pd[ch] - meanDy[ch] - xhat * meanDyXhat[ch]);
    }
  }
  return env.Undefined();
}

// reluGrad(dy, x, dx): dy where x > 0, else 0 (tfjs's mul(dy, step(x))).
Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
  RequireArgs(info, 3, "reluGrad");
  F32 dy = ArgF32(info, 0, "dy");
  F32 x = ArgF32(info, 1, "x", dy.length);
  F32 dx = ArgF32(info, 2, "dx", dy.length);
  int64_t n = static_cast<int64_t>(dy.length);
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; i++) {
    float v = x.data[i];
    // NaN in x gives NaN, as step(NaN) * dy does in tfjs.
    float s = v > 0.f ? 1.f : 0.f;
    dx.data[i] = v != v ? v : dy.data[i] * s;
  }
  return info.Env().Undefined();
}

// reluGradBiasSum(dy, y, dx, dbias, channels): the backward of conv + bias + ReLU up to the
// convolution: dx = dy where the ReLU's output y > 0, else 0, and dbias = dx summed per channel.
Napi::Value ReluGradBiasSum(const Napi::CallbackInfo& info) {
  RequireArgs(info, 5, "reluGradBiasSum");
  Napi::Env env = info.Env();
  int64_t c = ArgInt(info, 4, "channels", 1, int64_t(1) << 30);
  F32 dy = ArgF32(info, 0, "dy");
  if (dy.length == 0 || dy.length % c != 0) ThrowType(env, "reluGradBiasSum: dy does not hold whole rows of channels");
  F32 y = ArgF32(info, 1, "y", dy.length);
  F32 dx = ArgF32(info, 2, "dx", dy.length);
  F32 dbias = ArgF32(info, 3, "dbias", c);
  int64_t rows = static_cast<int64_t>(dy.length) / c;
  std::vector<double> sums;
  ChannelSums(rows, c, 1, sums, [&](int64_t r, float* __restrict acc) {
    const float* __restrict pd = dy.data + r * c;
    const float* __restrict py = y.data + r * c;
    float* __restrict po = dx.data + r * c;
    for (int64_t ch = 0; ch < c; ch++) {
      float g = py[ch] > 0.f ? pd[ch] : 0.f;
      po[ch] = g;
      acc[ch] += g;
    }
  });
  for (int64_t ch = 0; ch < c; ch++) dbias.data[ch] = static_cast<float>(sums[ch]);
  return env.Undefined();
}

}  // namespace

void RegisterBatchNormTrain(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNormTrain", Napi::Function::New(env, BatchNormTrain));
  exports.Set("batchNormTrainGrad", Napi::Function::New(env, BatchNormTrainGrad));
  exports.Set("reluGrad", Napi::Function::New(env, ReluGrad));
  exports.Set("reluGradBiasSum", Napi::Function::New(env, ReluGradBiasSum));
}

}  // namespace gradsync
