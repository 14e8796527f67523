// gradsync's oneDNN addon: stateless kernels over caller-owned typed arrays (tfjs's cpu storage),
// so no tensor memory lives on the native side.
#include <malloc.h>
#include <napi.h>

#include "engine.h"

namespace gradsync {
void RegisterConv(Napi::Env env, Napi::Object exports);
void RegisterPool(Napi::Env env, Napi::Object exports);
void RegisterMatMul(Napi::Env env, Napi::Object exports);
void RegisterElementwise(Napi::Env env, Napi::Object exports);
void RegisterReduce(Napi::Env env, Napi::Object exports);
void RegisterTransform(Napi::Env env, Napi::Object exports);
void RegisterBatchNormTrain(Napi::Env env, Napi::Object exports);
void RegisterDropout(Napi::Env env, Napi::Object exports);
}  // namespace gradsync

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Every kernel output is a new typed array of up to ~8 MB. glibc serves those by mmap and
  // unmaps them on free, so each step paid a page fault per 4 KiB of every output (measured: an
  // 8 MB ReLU took 4.9 ms with a fresh output against 1.4 ms into a reused one). Keeping them on
  // the heap, and the heap's top mapped, lets freed outputs be reused without faults.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
  gradsync::RegisterEngine(env, exports);
  gradsync::RegisterConv(env, exports);
  gradsync::RegisterPool(env, exports);
  gradsync::RegisterMatMul(env, exports);
  gradsync::RegisterElementwise(env, exports);
  gradsync::RegisterReduce(env, exports);
  gradsync::RegisterTransform(env, exports);
  gradsync::RegisterBatchNormTrain(env, exports);
  gradsync::RegisterDropout(env, exports);
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

NODE_API_MODULE(gradsync_onednn, Init)
