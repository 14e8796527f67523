// Argument checking at the JS/C++ boundary: every typed array's kind and length and every shape
// is checked here, so a bad call is a thrown JS error, never a read or write out of bounds.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gradsync {

using Shape = std::vector<int64_t>;

// A Float32Array argument viewed in place (no copy).
struct F32 {
  float* data = nullptr;
  size_t length = 0;
};

// A Uint8Array argument viewed in place (tfjs keeps bool tensors as Uint8Array).
struct U8 {
  uint8_t* data = nullptr;
  size_t length = 0;
};

[[noreturn]] void ThrowType(Napi::Env env, const std::string& message);

// The float32 array at `index`; throws unless it is a Float32Array of exactly `expected` elements
// (any length when expected is SIZE_MAX).
F32 ArgF32(const Napi::CallbackInfo& info, size_t index, const char* name, size_t expected = SIZE_MAX);
// Like ArgF32, but null/undefined gives {nullptr, 0}.
F32 OptionalF32(const Napi::CallbackInfo& info, size_t index, const char* name, size_t expected);
U8 ArgU8(const Napi::CallbackInfo& info, size_t index, const char* name, size_t expected);

// An array of non-negative integers; `rank` (if not -1) is the required length.
Shape ArgShape(const Napi::CallbackInfo& info, size_t index, const char* name, int rank = -1);
// An array of integers, each >= minValue.
std::vector<int64_t> ArgInts(const Napi::CallbackInfo& info, size_t index, const char* name, size_t count,
                             int64_t minValue);
int64_t ArgInt(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t minValue, int64_t maxValue);
double ArgNumber(const Napi::CallbackInfo& info, size_t index, const char* name);
bool ArgBool(const Napi::CallbackInfo& info, size_t index, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* name);

// Product of the dimensions; throws on overflow past 2^40 elements.
size_t NumElements(Napi::Env env, const Shape& shape, const char* name);
std::string ShapeString(const Shape& shape);

void RequireArgs(const Napi::CallbackInfo& info, size_t count, const char* function);

}  // namespace gradsync
