// Max pooling forward and its gradient over NHWC, as tfjs-backend-cpu defines them: padding cells
// never win, the first maximum in a window (row-major) takes the whole gradient.
#include <cmath>
#include <limits>
#include <vector>

#include "args.h"

namespace gradsync {

namespace {

struct PoolGeometry {
  int64_t n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl;
};

// (xShape, outShape, window, strides, padTopLeft) from argument `at`.
PoolGeometry ReadPool(const Napi::CallbackInfo& info, size_t at, const char* kernel) {
  Shape x = ArgShape(info, at, "input shape", 4);
  Shape y = ArgShape(info, at + 1, "output shape", 4);
  auto window = ArgInts(info, at + 2, "window", 2, 1);
  auto strides = ArgInts(info, at + 3, "strides", 2, 1);
  auto pad = ArgInts(info, at + 4, "padding (top, left)", 2, 0);
  PoolGeometry g{x[0], x[1], x[2], x[3], y[1], y[2], window[0], window[1], strides[0], strides[1], pad[0], pad[1]};
  if (y[0] != x[0] || y[3] != x[3]) {
    ThrowType(info.Env(), std::string(kernel) + ": output " + ShapeString(y) + " does not match input " + ShapeString(x));
  }
  // Every output window must start inside the padded input.
  if ((g.oh > 0 && (g.oh - 1) * g.sh - g.pt >= g.h) || (g.ow > 0 && (g.ow - 1) * g.sw - g.pl >= g.w)) {
    ThrowType(info.Env(), std::string(kernel) + ": output " + ShapeString(y) + " is too large for input " +
                              ShapeString(x) + " with these strides and padding");
  }
  return g;
}

// For output cell (oy, ox) of image b, calls visit(inputOffset) for each input cell of its window.
template <typename Visit>
inline void ForWindow(const PoolGeometry& g, int64_t b, int64_t oy, int64_t ox, Visit visit) {
  int64_t y0 = oy * g.sh - g.pt, x0 = ox * g.sw - g.pl;
  int64_t yBegin = std::max<int64_t>(0, y0), yEnd = std::min<int64_t>(g.h, y0 + g.kh);
  int64_t xBegin = std::max<int64_t>(0, x0), xEnd = std::min<int64_t>(g.w, x0 + g.kw);
  for (int64_t y = yBegin; y < yEnd; y++)
    for (int64_t x = xBegin; x < xEnd; x++) visit(((b * g.h + y) * g.w + x) * g.c);
}

// maxPool(x, out, xShape, outShape, window, strides, padTL)
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  RequireArgs(info, 7, "maxPool");
  PoolGeometry g = ReadPool(info, 2, "maxPool");
  F32 x = ArgF32(info, 0, "input", g.n * g.h * g.w * g.c);
  F32 out = ArgF32(info, 1, "output", g.n * g.oh * g.ow * g.c);
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t b = 0; b < g.n; b++) {
    for (int64_t oy = 0; oy < g.oh; oy++) {
      for (int64_t ox = 0; ox < g.ow; ox++) {
        float* o = out.data + ((b * g.oh + oy) * g.ow + ox) * g.c;
        for (int64_t ch = 0; ch < g.c; ch++) o[ch] = -std::numeric_limits<float>::infinity();
        ForWindow(g, b, oy, ox, [&](int64_t offset) {
          const float* in = x.data + offset;
          // Selects, not branches, so the channel loop vectorises; NaN wins as in tfjs.
          for (int64_t ch = 0; ch < g.c; ch++) {
            float v = in[ch];
            float larger = v > o[ch] ? v : o[ch];
            o[ch] = v != v ? v : larger;
          }
        });
      }
    }
  }
  return info.Env().Undefined();
}

// maxPoolGrad(dy, x, dx, xShape, dyShape, window, strides, padTL)
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  RequireArgs(info, 8, "maxPoolGrad");
  PoolGeometry g = ReadPool(info, 3, "maxPoolGrad");
  F32 dy = ArgF32(info, 0, "dy", g.n * g.oh * g.ow * g.c);
  F32 x = ArgF32(info, 1, "input", g.n * g.h * g.w * g.c);
  F32 dx = ArgF32(info, 2, "dx", g.n * g.h * g.w * g.c);
  // Images are independent: each thread owns whole images of dx.
#pragma omp parallel
  {
    std::vector<float> best(g.c);
    std::vector<int64_t> where(g.c);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < g.n; b++) {
      std::fill(dx.data + b * g.h * g.w * g.c, dx.data + (b + 1) * g.h * g.w * g.c, 0.f);
      for (int64_t oy = 0; oy < g.oh; oy++) {
        for (int64_t ox = 0; ox < g.ow; ox++) {
          std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
          std::fill(where.begin(), where.end(), -1);
          ForWindow(g, b, oy, ox, [&](int64_t offset) {
            const float* in = x.data + offset;
            for (int64_t ch = 0; ch < g.c; ch++) {
              bool larger = in[ch] > best[ch];
              best[ch] = larger ? in[ch] : best[ch];
              where[ch] = larger ? offset + ch : where[ch];
            }
          });
          const float* d = dy.data + ((b * g.oh + oy) * g.ow + ox) * g.c;
          for (int64_t ch = 0; ch < g.c; ch++)
            if (where[ch] >= 0) dx.data[where[ch]] += d[ch];
        }
      }
    }
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterPool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
}

}  // namespace gradsync
