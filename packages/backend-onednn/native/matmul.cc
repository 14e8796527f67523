// Batched matrix multiply through oneDNN's sgemm, with the bias and activation of tfjs's
// _FusedMatMul applied in the same pass over the output.
#include <algorithm>
#include <cmath>

#include "args.h"
#include "engine.h"

namespace gradsync {

namespace {

enum class Activation { kLinear, kRelu, kRelu6, kSigmoid };

Activation ParseActivation(Napi::Env env, const std::string& name) {
  if (name == "linear") return Activation::kLinear;
  if (name == "relu") return Activation::kRelu;
  if (name == "relu6") return Activation::kRelu6;
  if (name == "sigmoid") return Activation::kSigmoid;
  ThrowType(env, "matMul: unsupported activation '" + name + "'");
}

inline float Activate(Activation a, float v) {
  switch (a) {
    case Activation::kRelu: return v < 0.f ? 0.f : v;
    case Activation::kRelu6: return std::min(std::max(v, 0.f), 6.f);
    case Activation::kSigmoid: return 1.f / (1.f + std::exp(-v));
    default: return v;
  }
}

// matMul(a, b, out, aShape[B,r,c], bShape[B,r,c], transposeA, transposeB, bias|null, activation)
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  RequireArgs(info, 9, "matMul");
  Napi::Env env = info.Env();
  Shape as = ArgShape(info, 3, "a shape", 3);
  Shape bs = ArgShape(info, 4, "b shape", 3);
  bool ta = ArgBool(info, 5, "transposeA");
  bool tb = ArgBool(info, 6, "transposeB");
  Activation act = ParseActivation(env, ArgString(info, 8, "activation"));
  int64_t m = ta ? as[2] : as[1], k = ta ? as[1] : as[2];
  int64_t kb = tb ? bs[2] : bs[1], n = tb ? bs[1] : bs[2];
  if (k != kb) {
    ThrowType(env, "matMul: inner dimensions differ (a " + ShapeString(as) + ", b " + ShapeString(bs) + ")");
  }
  if (as[0] != bs[0] && as[0] != 1 && bs[0] != 1) {
    ThrowType(env, "matMul: batch dimensions do not broadcast (a " + ShapeString(as) + ", b " + ShapeString(bs) + ")");
  }
  int64_t batch = std::max(as[0], bs[0]);
  F32 a = ArgF32(info, 0, "a", as[0] * as[1] * as[2]);
  F32 b = ArgF32(info, 1, "b", bs[0] * bs[1] * bs[2]);
  F32 out = ArgF32(info, 2, "output", batch * m * n);
  F32 bias = OptionalF32(info, 7, "bias", SIZE_MAX);
  if (bias.data && bias.length != static_cast<size_t>(n) && bias.length != 1) {
    ThrowType(env, "matMul: bias must have 1 or " + std::to_string(n) + " elements, got " + std::to_string(bias.length));
  }
  for (int64_t i = 0; i < batch; i++) {
    const float* A = a.data + (as[0] == 1 ? 0 : i) * as[1] * as[2];
    const float* B = b.data + (bs[0] == 1 ? 0 : i) * bs[1] * bs[2];
    float* C = out.data + i * m * n;
    if (m * n == 0) continue;
    if (k == 0) {
      std::fill(C, C + m * n, 0.f);
      continue;
    }
    dnnl_status_t status = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.f, A, as[2], B, bs[2], 0.f, C, n);
    if (status != dnnl_success) ThrowType(env, "matMul: oneDNN sgemm failed with status " + std::to_string(status));
  }
  if (bias.data || act != Activation::kLinear) {
    int64_t total = batch * m * n;
#pragma omp parallel for schedule(static) if (total > 32768)
    for (int64_t i = 0; i < total; i++) {
      float v = out.data[i];
      if (bias.data) v += bias.data[bias.length == 1 ? 0 : i % n];
      out.data[i] = Activate(act, v);
    }
  }
  return env.Undefined();
}

}  // namespace

void RegisterMatMul(Napi::Env env, Napi::Object exports) { exports.Set("matMul", Napi::Function::New(env, MatMul)); }

}  // namespace gradsync
