#include "args.h"

#include <cmath>
#include <sstream>

namespace gradsync {

void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, "onednn: " + message);
}

void RequireArgs(const Napi::CallbackInfo& info, size_t count, const char* function) {
  if (info.Length() != count) {
    std::ostringstream s;
    s << function << " takes " << count << " arguments, got " << info.Length();
    ThrowType(info.Env(), s.str());
  }
}

F32 ArgF32(const Napi::CallbackInfo& info, size_t index, const char* name, size_t expected) {
  Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowType(info.Env(), std::string(name) + " must be a Float32Array (a float32 tensor)");
  }
  auto array = value.As<Napi::Float32Array>();
  if (expected != SIZE_MAX && array.ElementLength() != expected) {
    std::ostringstream s;
    s << name << " has " << array.ElementLength() << " elements, its shape needs " << expected;
    ThrowType(info.Env(), s.str());
  }
  return F32{array.Data(), array.ElementLength()};
}

F32 OptionalF32(const Napi::CallbackInfo& info, size_t index, const char* name, size_t expected) {
  if (info[index].IsNull() || info[index].IsUndefined()) return F32{};
  return ArgF32(info, index, name, expected);
}

U8 ArgU8(const Napi::CallbackInfo& info, size_t index, const char* name, size_t expected) {
  Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(info.Env(), std::string(name) + " must be a Uint8Array (a bool tensor)");
  }
  auto array = value.As<Napi::Uint8Array>();
  if (array.ElementLength() != expected) {
    std::ostringstream s;
    s << name << " has " << array.ElementLength() << " elements, its shape needs " << expected;
    ThrowType(info.Env(), s.str());
  }
  return U8{array.Data(), array.ElementLength()};
}

static int64_t ToInt(const Napi::CallbackInfo& info, Napi::Value value, const std::string& what) {
  if (!value.IsNumber()) ThrowType(info.Env(), what + " must be a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 1e15) ThrowType(info.Env(), what + " must be an integer");
  return static_cast<int64_t>(d);
}

std::vector<int64_t> ArgInts(const Napi::CallbackInfo& info, size_t index, const char* name, size_t count,
                             int64_t minValue) {
  Napi::Value value = info[index];
  if (!value.IsArray()) ThrowType(info.Env(), std::string(name) + " must be an array of integers");
  auto array = value.As<Napi::Array>();
  if (array.Length() != count) {
    std::ostringstream s;
    s << name << " must have " << count << " entries, got " << array.Length();
    ThrowType(info.Env(), s.str());
  }
  std::vector<int64_t> out(count);
  for (uint32_t i = 0; i < count; i++) {
    out[i] = ToInt(info, array.Get(i), std::string(name) + "[" + std::to_string(i) + "]");
    if (out[i] < minValue) {
      ThrowType(info.Env(), std::string(name) + "[" + std::to_string(i) + "] must be >= " + std::to_string(minValue));
    }
  }
  return out;
}

Shape ArgShape(const Napi::CallbackInfo& info, size_t index, const char* name, int rank) {
  Napi::Value value = info[index];
  if (!value.IsArray()) ThrowType(info.Env(), std::string(name) + " must be a shape (array of integers)");
  auto array = value.As<Napi::Array>();
  if (rank >= 0 && array.Length() != static_cast<uint32_t>(rank)) {
    std::ostringstream s;
    s << name << " must have rank " << rank << ", got rank " << array.Length();
    ThrowType(info.Env(), s.str());
  }
  if (array.Length() > 8) ThrowType(info.Env(), std::string(name) + ": rank above 8 is not supported");
  return ArgInts(info, index, name, array.Length(), 0);
}

int64_t ArgInt(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t minValue, int64_t maxValue) {
  int64_t v = ToInt(info, info[index], name);
  if (v < minValue || v > maxValue) {
    std::ostringstream s;
    s << name << " must be in [" << minValue << ", " << maxValue << "], got " << v;
    ThrowType(info.Env(), s.str());
  }
  return v;
}

double ArgNumber(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsNumber()) ThrowType(info.Env(), std::string(name) + " must be a number");
  return info[index].As<Napi::Number>().DoubleValue();
}

bool ArgBool(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsBoolean()) ThrowType(info.Env(), std::string(name) + " must be a boolean");
  return info[index].As<Napi::Boolean>().Value();
}

std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsString()) ThrowType(info.Env(), std::string(name) + " must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

size_t NumElements(Napi::Env env, const Shape& shape, const char* name) {
  size_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) ThrowType(env, std::string(name) + " has a negative dimension");
    if (d != 0 && n > (size_t(1) << 40) / static_cast<size_t>(d)) ThrowType(env, std::string(name) + " is too large");
    n *= static_cast<size_t>(d);
  }
  return n;
}

std::string ShapeString(const Shape& shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); i++) s << (i ? "," : "") << shape[i];
  s << "]";
  return s.str();
}

}  // namespace gradsync
