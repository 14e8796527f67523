#include "engine.h"

#include <omp.h>

#include "args.h"

namespace gradsync {

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& Stream() {
  static dnnl::stream stream(Engine());
  return stream;
}

static std::unordered_map<std::string, std::unique_ptr<CachedPrimitive>>& Cache() {
  static std::unordered_map<std::string, std::unique_ptr<CachedPrimitive>> cache;
  return cache;
}

CachedPrimitive& Cached(const std::string& key, const std::function<std::unique_ptr<CachedPrimitive>()>& make) {
  auto& cache = Cache();
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  // Bounded: a run uses a few dozen shapes; an unbounded stream of new shapes starts over.
  if (cache.size() > 512) cache.clear();
  auto made = make();
  auto& slot = cache[key];
  slot = std::move(made);
  return *slot;
}

int Threads() { return omp_get_max_threads(); }

void GuardDnnl(Napi::Env env, const char* kernel, const std::function<void()>& body) {
  try {
    body();
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(env, std::string("onednn: ") + kernel + ": oneDNN refused: " + e.what());
  }
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  RequireArgs(info, 1, "setThreads");
  int64_t n = ArgInt(info, 0, "threads", 1, 1024);
  if (n != omp_get_max_threads()) {
    omp_set_num_threads(static_cast<int>(n));
    Cache().clear();
  }
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

static Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), Threads()); }

static Napi::Value Describe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  const dnnl_version_t* v = dnnl_version();
  out.Set("version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  out.Set("cpuRuntime", v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other");
  out.Set("threads", Threads());
  const char* isa = "unknown";
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: isa = "SSE4.1"; break;
    case dnnl::cpu_isa::avx: isa = "AVX"; break;
    case dnnl::cpu_isa::avx2: isa = "AVX2"; break;
    case dnnl::cpu_isa::avx512_core: isa = "AVX-512"; break;
    case dnnl::cpu_isa::avx512_core_vnni: isa = "AVX-512 VNNI"; break;
    case dnnl::cpu_isa::avx512_core_bf16: isa = "AVX-512 BF16"; break;
    case dnnl::cpu_isa::avx512_core_amx: isa = "AVX-512 AMX"; break;
    default: break;
  }
  out.Set("isa", isa);
  out.Set("cachedPrimitives", static_cast<double>(Cache().size()));
  Napi::Object impls = Napi::Object::New(env);
  for (const auto& [key, entry] : Cache()) impls.Set(key, entry->impl);
  out.Set("implementations", impls);
  return out;
}

void RegisterEngine(Napi::Env env, Napi::Object exports) {
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("describe", Napi::Function::New(env, Describe));
}

}  // namespace gradsync
