// Element-wise kernels over float32: binary ops with NumPy broadcasting, unary ops, batch norm
// (inference form, as tfjs's FusedBatchNorm kernel defines it) and tile. Threads split the
// output; every output element is computed the same way whatever the thread count.
#include <algorithm>
#include <cmath>
#include <functional>

#include "args.h"

namespace gradsync {

namespace {

constexpr int64_t kParallelMin = 32768;

// Strides of `shape` in elements, 0 where the dimension is broadcast (size 1 under a larger one).
std::vector<int64_t> BroadcastStrides(const Shape& shape, const Shape& out) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; i--) {
    strides[i] = (shape[i] == 1 && out[i] != 1) ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

void CheckBroadcast(Napi::Env env, const char* op, const Shape& a, const Shape& b, const Shape& out) {
  bool ok = a.size() == out.size() && b.size() == out.size();
  for (size_t i = 0; ok && i < out.size(); i++) {
    ok = (a[i] == out[i] || a[i] == 1) && (b[i] == out[i] || b[i] == 1);
  }
  if (!ok) {
    ThrowType(env, std::string(op) + ": shapes " + ShapeString(a) + " and " + ShapeString(b) +
                       " do not broadcast to " + ShapeString(out));
  }
}

// Applies f(a, b) over the broadcast of a and b into out, row by row along the last axis.
template <typename Out, typename F>
void Broadcast(const float* a, const Shape& as, const float* b, const Shape& bs, Out* out, const Shape& os, F f) {
  int64_t total = 1;
  for (int64_t d : os) total *= d;
  if (total == 0) return;
  if (as == os && bs == os) {
#pragma omp parallel for schedule(static) if (total > kParallelMin)
    for (int64_t i = 0; i < total; i++) out[i] = f(a[i], b[i]);
    return;
  }
  int rank = static_cast<int>(os.size());
  if (rank == 0) {
    out[0] = f(a[0], b[0]);
    return;
  }
  auto sa = BroadcastStrides(as, os), sb = BroadcastStrides(bs, os);
  int64_t inner = os[rank - 1];
  int64_t ia = sa[rank - 1], ib = sb[rank - 1];
  int64_t rows = total / inner;
#pragma omp parallel for schedule(static) if (total > kParallelMin)
  for (int64_t row = 0; row < rows; row++) {
    int64_t offA = 0, offB = 0, rest = row;
    for (int d = rank - 2; d >= 0; d--) {
      int64_t idx = rest % os[d];
      rest /= os[d];
      offA += idx * sa[d];
      offB += idx * sb[d];
    }
    const float* pa = a + offA;
    const float* pb = b + offB;
    Out* po = out + row * inner;
    if (ia == 1 && ib == 1) {
      for (int64_t j = 0; j < inner; j++) po[j] = f(pa[j], pb[j]);
    } else if (ia == 1) {
      const float vb = pb[0];
      for (int64_t j = 0; j < inner; j++) po[j] = f(pa[j], vb);
    } else if (ib == 1) {
      const float va = pa[0];
      for (int64_t j = 0; j < inner; j++) po[j] = f(va, pb[j]);
    } else {
      po[0] = f(pa[0], pb[0]);
      for (int64_t j = 1; j < inner; j++) po[j] = po[0];
    }
  }
}

template <typename F>
void Map(const float* x, float* out, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) out[i] = f(x[i]);
}

// binary(op, a, aShape, b, bShape, out, outShape): shapes already padded to the output's rank.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  RequireArgs(info, 7, "binary");
  Napi::Env env = info.Env();
  std::string op = ArgString(info, 0, "op");
  Shape as = ArgShape(info, 2, "a shape"), bs = ArgShape(info, 4, "b shape"), os = ArgShape(info, 6, "output shape");
  CheckBroadcast(env, op.c_str(), as, bs, os);
  F32 a = ArgF32(info, 1, "a", NumElements(env, as, "a"));
  F32 b = ArgF32(info, 3, "b", NumElements(env, bs, "b"));
  size_t n = NumElements(env, os, "output");
  auto arith = [&](auto f) {
    F32 out = ArgF32(info, 5, "output", n);
    Broadcast(a.data, as, b.data, bs, out.data, os, f);
  };
  auto compare = [&](auto f) {
    U8 out = ArgU8(info, 5, "output", n);
    Broadcast(a.data, as, b.data, bs, out.data, os, f);
  };
  if (op == "Add") arith([](float x, float y) { return x + y; });
  else if (op == "Sub") arith([](float x, float y) { return x - y; });
  else if (op == "Multiply") arith([](float x, float y) { return x * y; });
  else if (op == "RealDiv") arith([](float x, float y) { return x / y; });
  else if (op == "Maximum") arith([](float x, float y) { return std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y); });
  else if (op == "Minimum") arith([](float x, float y) { return std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y); });
  else if (op == "SquaredDifference") arith([](float x, float y) { return (x - y) * (x - y); });
  else if (op == "Equal") compare([](float x, float y) -> uint8_t { return x == y; });
  else if (op == "NotEqual") compare([](float x, float y) -> uint8_t { return x != y; });
  else if (op == "Greater") compare([](float x, float y) -> uint8_t { return x > y; });
  else if (op == "GreaterEqual") compare([](float x, float y) -> uint8_t { return x >= y; });
  else if (op == "Less") compare([](float x, float y) -> uint8_t { return x < y; });
  else if (op == "LessEqual") compare([](float x, float y) -> uint8_t { return x <= y; });
  else ThrowType(env, "binary: unknown op '" + op + "'");
  return env.Undefined();
}

// unary(op, x, out, alpha): alpha is Step's value for x <= 0 (ignored by the other ops).
Napi::Value Unary(const Napi::CallbackInfo& info) {
  RequireArgs(info, 4, "unary");
  Napi::Env env = info.Env();
  std::string op = ArgString(info, 0, "op");
  F32 x = ArgF32(info, 1, "x");
  F32 out = ArgF32(info, 2, "output", x.length);
  float alpha = static_cast<float>(ArgNumber(info, 3, "alpha"));
  int64_t n = static_cast<int64_t>(x.length);
  if (op == "Relu") Map(x.data, out.data, n, [](float v) { return v < 0.f ? 0.f : v; });
  else if (op == "Relu6") Map(x.data, out.data, n, [](float v) { return std::isnan(v) ? v : std::min(std::max(v, 0.f), 6.f); });
  else if (op == "Step") {
    // Branch-free so it vectorises: signs are random in a gradient, and a branch mispredicts half the time.
    Map(x.data, out.data, n, [alpha](float v) {
      float positive = static_cast<float>(v > 0.f);
      float r = positive + (1.f - positive) * alpha;
      return v == v ? r : v;
    });
  }
  else if (op == "Square") Map(x.data, out.data, n, [](float v) { return v * v; });
  else if (op == "Sqrt") Map(x.data, out.data, n, [](float v) { return std::sqrt(v); });
  else if (op == "Rsqrt") Map(x.data, out.data, n, [](float v) { return 1.f / std::sqrt(v); });
  else if (op == "Neg") Map(x.data, out.data, n, [](float v) { return -v; });
  else if (op == "Exp") Map(x.data, out.data, n, [](float v) { return std::exp(v); });
  else if (op == "Log") Map(x.data, out.data, n, [](float v) { return std::log(v); });
  else if (op == "Floor") Map(x.data, out.data, n, [](float v) { return std::floor(v); });
  else if (op == "Abs") Map(x.data, out.data, n, [](float v) { return std::fabs(v); });
  else if (op == "Reciprocal") Map(x.data, out.data, n, [](float v) { return 1.f / v; });
  else if (op == "Sigmoid") Map(x.data, out.data, n, [](float v) { return 1.f / (1.f + std::exp(-v)); });
  else if (op == "Tanh") Map(x.data, out.data, n, [](float v) { return std::tanh(v); });
  else ThrowType(env, "unary: unknown op '" + op + "'");
  return env.Undefined();
}

// batchNorm(x, mean, variance, offset|null, scale|null, out, epsilon): each parameter repeats
// along x (length C for NHWC channels, or 1), as tfjs-backend-cpu's batchNorm indexes them.
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  RequireArgs(info, 7, "batchNorm");
  Napi::Env env = info.Env();
  F32 x = ArgF32(info, 0, "x");
  F32 mean = ArgF32(info, 1, "mean");
  F32 var = ArgF32(info, 2, "variance");
  F32 offset = OptionalF32(info, 3, "offset", SIZE_MAX);
  F32 scale = OptionalF32(info, 4, "scale", SIZE_MAX);
  F32 out = ArgF32(info, 5, "output", x.length);
  float eps = static_cast<float>(ArgNumber(info, 6, "epsilon"));
  for (const F32* p : {&mean, &var, &offset, &scale}) {
    if (p->data && (p->length == 0 || x.length % p->length != 0)) {
      ThrowType(env, "batchNorm: a parameter of " + std::to_string(p->length) + " elements does not tile x of " +
                         std::to_string(x.length));
    }
  }
  // Channel parameters: tfjs indexes each with its own wrap-around counter.
  size_t c = mean.length;
  for (const F32* p : {&var, &offset, &scale})
    if (p->data) c = std::max(c, p->length);
  std::vector<float> mul(c), add(c), sub(c);
  for (size_t i = 0; i < c; i++) {
    float s = scale.data ? scale.data[i % scale.length] : 1.f;
    mul[i] = s / std::sqrt(var.data[i % var.length] + eps);
    sub[i] = mean.data[i % mean.length];
    add[i] = offset.data ? offset.data[i % offset.length] : 0.f;
  }
  int64_t rows = static_cast<int64_t>(x.length / c), width = static_cast<int64_t>(c);
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(x.length) > kParallelMin)
  for (int64_t row = 0; row < rows; row++) {
    const float* px = x.data + row * width;
    float* po = out.data + row * width;
    for (int64_t ch = 0; ch < width; ch++) po[ch] = add[ch] + (px[ch] - sub[ch]) * mul[ch];
  }
  return env.Undefined();
}

// tile(x, xShape, out, outShape): outShape[i] is a multiple of xShape[i].
Napi::Value Tile(const Napi::CallbackInfo& info) {
  RequireArgs(info, 4, "tile");
  Napi::Env env = info.Env();
  Shape xs = ArgShape(info, 1, "x shape"), os = ArgShape(info, 3, "output shape");
  if (xs.size() != os.size() || xs.empty()) ThrowType(env, "tile: ranks differ or are 0");
  for (size_t i = 0; i < xs.size(); i++) {
    if (xs[i] == 0 ? os[i] != 0 : os[i] % xs[i] != 0) {
      ThrowType(env, "tile: output " + ShapeString(os) + " is not a tiling of " + ShapeString(xs));
    }
  }
  F32 x = ArgF32(info, 0, "x", NumElements(env, xs, "x"));
  F32 out = ArgF32(info, 2, "output", NumElements(env, os, "output"));
  int rank = static_cast<int>(os.size());
  int64_t inner = os[rank - 1], xInner = xs[rank - 1];
  if (out.length == 0) return env.Undefined();
  int64_t rows = static_cast<int64_t>(out.length) / inner;
  std::vector<int64_t> xStrides(rank);
  int64_t s = 1;
  for (int d = rank - 1; d >= 0; d--) {
    xStrides[d] = s;
    s *= xs[d];
  }
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(out.length) > kParallelMin)
  for (int64_t row = 0; row < rows; row++) {
    int64_t off = 0, rest = row;
    for (int d = rank - 2; d >= 0; d--) {
      off += ((rest % os[d]) % xs[d]) * xStrides[d];
      rest /= os[d];
    }
    float* po = out.data + row * inner;
    const float* px = x.data + off;
    if (xInner == inner) {
      std::copy(px, px + inner, po);
    } else {
      for (int64_t j = 0; j < inner; j += xInner) std::copy(px, px + xInner, po + j);
    }
  }
  return env.Undefined();
}

}  // namespace

void RegisterElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm));
  exports.Set("tile", Napi::Function::New(env, Tile));
}

}  // namespace gradsync
