// One oneDNN CPU engine and stream per process, the thread count, and a cache of primitives
// keyed by their parameters (a training step reuses the same few dozen shapes every step).
#pragma once

#include <napi.h>

#include <dnnl.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace gradsync {

dnnl::engine& Engine();
dnnl::stream& Stream();

// Everything a cached kernel needs to run again: built once, reused while the key matches.
struct CachedPrimitive {
  virtual ~CachedPrimitive() = default;
  // oneDNN's name for the implementation it chose (e.g. "brgconv:avx2"), for profiles.
  std::string impl;
};

// Returns the cached object for `key`, building it with `make` on a miss. Cleared when the thread
// count changes (oneDNN sizes some primitives for the threads present at creation).
CachedPrimitive& Cached(const std::string& key, const std::function<std::unique_ptr<CachedPrimitive>()>& make);

int Threads();

// Runs `body`, turning a oneDNN error into a JS error that names the kernel.
void GuardDnnl(Napi::Env env, const char* kernel, const std::function<void()>& body);

void RegisterEngine(Napi::Env env, Napi::Object exports);

}  // namespace gradsync
