// tf.image.transform (the augmentation's zoom and flip): TensorFlow's algorithm from
// image_ops.h — map each output pixel through its projective transform, fold coordinates
// outside the image by the fill mode, then read nearest or bilinear.
#include <cmath>
#include <string>

#include "args.h"

namespace gradsync {

namespace {

enum class Fill { kConstant, kReflect, kWrap, kNearest };

// Double precision, as tfjs-backend-cpu computes coordinates (in JavaScript numbers).
inline double MapCoord(double c, int64_t len, Fill mode) {
  if (mode == Fill::kReflect) {
    if (c < 0) {
      if (len <= 1) c = 0;
      else {
        double sz2 = 2.0 * len;
        if (c < -sz2) c = sz2 * std::trunc(-c / sz2) + c;
        c = c < -len ? c + sz2 : -c - 1;
      }
    } else if (c > len - 1) {
      if (len <= 1) c = 0;
      else {
        double sz2 = 2.0 * len;
        c -= sz2 * std::trunc(c / sz2);
        if (c >= len) c = sz2 - c - 1;
      }
    }
    return std::fmin(std::fmax(c, 0.0), static_cast<double>(len - 1));
  }
  if (mode == Fill::kWrap) {
    if (c < 0) {
      if (len <= 1) c = 0;
      else c += len * (std::trunc(-c / (len - 1)) + 1);
    } else if (c > len - 1) {
      if (len <= 1) c = 0;
      else c -= len * std::trunc(c / (len - 1));
    }
    return std::fmin(std::fmax(c, 0.0), static_cast<double>(len - 1));
  }
  if (mode == Fill::kNearest) return std::fmin(std::fmax(c, 0.0), static_cast<double>(len - 1));
  return c;
}

// transform(image, transforms, out, imageShape[N,H,W,C], outHeight, outWidth, interpolation, fillMode, fillValue)
Napi::Value Transform(const Napi::CallbackInfo& info) {
  RequireArgs(info, 9, "transform");
  Napi::Env env = info.Env();
  Shape s = ArgShape(info, 3, "image shape", 4);
  int64_t n = s[0], h = s[1], w = s[2], c = s[3];
  int64_t oh = ArgInt(info, 4, "output height", 0, 1 << 20), ow = ArgInt(info, 5, "output width", 0, 1 << 20);
  std::string interpolation = ArgString(info, 6, "interpolation");
  std::string fillName = ArgString(info, 7, "fill mode");
  float fillValue = static_cast<float>(ArgNumber(info, 8, "fill value"));
  if (interpolation != "nearest" && interpolation != "bilinear") {
    ThrowType(env, "transform: interpolation must be nearest or bilinear, got '" + interpolation + "'");
  }
  Fill fill;
  if (fillName == "constant") fill = Fill::kConstant;
  else if (fillName == "reflect") fill = Fill::kReflect;
  else if (fillName == "wrap") fill = Fill::kWrap;
  else if (fillName == "nearest") fill = Fill::kNearest;
  else ThrowType(env, "transform: unknown fill mode '" + fillName + "'");
  F32 image = ArgF32(info, 0, "image", NumElements(env, s, "image"));
  F32 transforms = ArgF32(info, 1, "transforms");
  if (transforms.length != 8 && transforms.length != static_cast<size_t>(8 * n)) {
    ThrowType(env, "transform: transforms must hold 8 or 8 x batch values, got " + std::to_string(transforms.length));
  }
  F32 out = ArgF32(info, 2, "output", static_cast<size_t>(n * oh * ow * c));
  bool shared = transforms.length == 8;
  bool bilinear = interpolation == "bilinear";
  auto read = [&](int64_t base, int64_t y, int64_t x, int64_t ch) {
    return (y >= 0 && y < h && x >= 0 && x < w) ? image.data[base + (y * w + x) * c + ch] : fillValue;
  };
#pragma omp parallel for collapse(2) schedule(static) if (n * oh * ow * c > 32768)
  for (int64_t b = 0; b < n; b++) {
    for (int64_t oy = 0; oy < oh; oy++) {
      const float* t = transforms.data + (shared ? 0 : b * 8);
      int64_t base = b * h * w * c;
      for (int64_t ox = 0; ox < ow; ox++) {
        float* o = out.data + ((b * oh + oy) * ow + ox) * c;
        double k = static_cast<double>(t[6]) * ox + static_cast<double>(t[7]) * oy + 1;
        if (k == 0) {
          for (int64_t ch = 0; ch < c; ch++) o[ch] = fillValue;
          continue;
        }
        double x = MapCoord((static_cast<double>(t[0]) * ox + static_cast<double>(t[1]) * oy + t[2]) / k, w, fill);
        double y = MapCoord((static_cast<double>(t[3]) * ox + static_cast<double>(t[4]) * oy + t[5]) / k, h, fill);
        if (!bilinear) {
          // Math.round: halves round up.
          int64_t ry = static_cast<int64_t>(std::floor(y + 0.5)), rx = static_cast<int64_t>(std::floor(x + 0.5));
          for (int64_t ch = 0; ch < c; ch++) o[ch] = read(base, ry, rx, ch);
          continue;
        }
        int64_t y0 = static_cast<int64_t>(std::floor(y)), x0 = static_cast<int64_t>(std::floor(x));
        double wx1 = x - x0, wx0 = x0 + 1 - x, wy1 = y - y0, wy0 = y0 + 1 - y;
        for (int64_t ch = 0; ch < c; ch++) {
          double top = wx0 * read(base, y0, x0, ch) + wx1 * read(base, y0, x0 + 1, ch);
          double bottom = wx0 * read(base, y0 + 1, x0, ch) + wx1 * read(base, y0 + 1, x0 + 1, ch);
          o[ch] = static_cast<float>(wy0 * top + wy1 * bottom);
        }
      }
    }
  }
  return env.Undefined();
}

}  // namespace

void RegisterTransform(Napi::Env env, Napi::Object exports) {
  exports.Set("transform", Napi::Function::New(env, Transform));
}

}  // namespace gradsync
