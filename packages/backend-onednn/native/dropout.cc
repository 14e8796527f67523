// Dropout's mask and product in one pass. The random numbers come from a counter-based generator
// (splitmix64 of seed + index), so the mask depends on the seed only, not on the thread count.
#include <cstdint>

#include "args.h"

namespace gradsync {

namespace {

inline uint64_t SplitMix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// dropout(x, y, mask, rate, seed): mask = 1/(1-rate) where a uniform draw in [0,1) is >= rate,
// else 0 (tfjs: floor(u + keep) / keep); y = x * mask.
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  RequireArgs(info, 5, "dropout");
  F32 x = ArgF32(info, 0, "x");
  F32 y = ArgF32(info, 1, "y", x.length);
  F32 mask = ArgF32(info, 2, "mask", x.length);
  double rate = ArgNumber(info, 3, "rate");
  if (!(rate >= 0 && rate < 1)) ThrowType(info.Env(), "dropout: rate must be in [0, 1)");
  double seedValue = ArgNumber(info, 4, "seed");
  uint64_t seed = static_cast<uint64_t>(static_cast<int64_t>(seedValue)) * 0x2545F4914F6CDD1DULL;
  float keep = static_cast<float>(1.0 / (1.0 - rate));
  // Draws are 24-bit uniforms: the threshold compares integers, exactly.
  uint32_t threshold = static_cast<uint32_t>(rate * 16777216.0);
  int64_t n = static_cast<int64_t>(x.length);
#pragma omp parallel for schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; i++) {
    uint32_t u = static_cast<uint32_t>(SplitMix64(seed + static_cast<uint64_t>(i)) >> 40);
    float m = u >= threshold ? keep : 0.f;
    mask.data[i] = m;
    y.data[i] = x.data[i] * m;
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterDropout(Napi::Env env, Napi::Object exports) { exports.Set("dropout", Napi::Function::New(env, Dropout)); }

}  // namespace gradsync
