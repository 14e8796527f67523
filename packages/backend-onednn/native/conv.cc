// 2-D convolution forward (optionally with bias and ReLU fused) and both of its gradients, in
// tfjs's layouts: activations NHWC, filters HWIO. oneDNN may prefer a blocked filter layout; the
// filter (a few thousand floats) is then reordered on each call while activations stay NHWC.
#include <sstream>

#include "args.h"
#include "engine.h"

namespace gradsync {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

struct ConvGeometry {
  int64_t n, h, w, c;        // input
  int64_t kh, kw, co;        // filter (HWIO: kh, kw, c, co)
  int64_t oh, ow;            // output
  int64_t sh, sw, dh, dw;    // strides, dilations (1 = none)
  int64_t pt, pl, pb, pr;    // padding top, left, bottom, right

  std::string Key(const char* kind) const {
    std::ostringstream s;
    s << kind << ':' << n << ',' << h << ',' << w << ',' << c << ',' << kh << ',' << kw << ',' << co << ',' << sh << ','
      << sw << ',' << dh << ',' << dw << ',' << pt << ',' << pl << ',' << pb << ',' << pr;
    return s.str();
  }
  memory::desc Src(tag t = tag::nhwc) const { return {{n, c, h, w}, dt::f32, t}; }
  memory::desc Dst(tag t = tag::nhwc) const { return {{n, co, oh, ow}, dt::f32, t}; }
  memory::desc Weights(tag t = tag::hwio) const { return {{co, c, kh, kw}, dt::f32, t}; }
  memory::desc Bias() const { return {{co}, dt::f32, tag::x}; }
  memory::dims Strides() const { return {sh, sw}; }
  memory::dims Dilations() const { return {dh - 1, dw - 1}; }
  memory::dims PadL() const { return {pt, pl}; }
  memory::dims PadR() const { return {pb, pr}; }
};

// Reads and checks (xShape, wShape, outShape, strides, dilations, padTopLeft, padBottomRight)
// starting at argument `at`; every inconsistency is a thrown error naming the shapes.
ConvGeometry ReadGeometry(const Napi::CallbackInfo& info, size_t at, const char* kernel) {
  Napi::Env env = info.Env();
  Shape x = ArgShape(info, at, "input shape", 4);
  Shape f = ArgShape(info, at + 1, "filter shape", 4);
  Shape y = ArgShape(info, at + 2, "output shape", 4);
  auto strides = ArgInts(info, at + 3, "strides", 2, 1);
  auto dilations = ArgInts(info, at + 4, "dilations", 2, 1);
  auto padTL = ArgInts(info, at + 5, "padding (top, left)", 2, 0);
  auto padBR = ArgInts(info, at + 6, "padding (bottom, right)", 2, 0);
  ConvGeometry g{x[0], x[1], x[2], x[3], f[0], f[1], f[3], y[1], y[2], strides[0], strides[1], dilations[0],
                 dilations[1], padTL[0], padTL[1], padBR[0], padBR[1]};
  auto fail = [&](const std::string& why) {
    ThrowType(env, std::string(kernel) + ": " + why + " (input " + ShapeString(x) + ", filter " + ShapeString(f) +
                       ", output " + ShapeString(y) + ")");
  };
  if (f[2] != x[3]) fail("the filter's input channels differ from the input's channels");
  if (y[0] != x[0] || y[3] != f[3]) fail("the output's batch or channels do not match");
  if (g.n == 0 || g.h == 0 || g.w == 0 || g.c == 0 || g.kh == 0 || g.kw == 0 || g.co == 0) fail("empty dimension");
  int64_t effH = (g.kh - 1) * g.dh + 1, effW = (g.kw - 1) * g.dw + 1;
  int64_t wantH = (g.h + g.pt + g.pb - effH) / g.sh + 1, wantW = (g.w + g.pl + g.pr - effW) / g.sw + 1;
  if (g.h + g.pt + g.pb < effH || g.w + g.pl + g.pr < effW) fail("the filter is larger than the padded input");
  if (wantH != g.oh || wantW != g.ow) fail("the output's height/width do not follow from strides and padding");
  return g;
}

// A filter in tfjs's HWIO layout, reordered to the primitive's preferred layout when it differs.
struct WeightsPort {
  memory::desc user;
  memory::desc internal;
  bool needsReorder = false;
  memory scratch;
  dnnl::reorder toInternal;    // forward / backward data: HWIO -> internal
  dnnl::reorder fromInternal;  // backward weights: internal -> HWIO

  void Init(const memory::desc& userDesc, const memory::desc& preferred, bool gradient) {
    user = userDesc;
    internal = preferred;
    needsReorder = preferred != userDesc;
    if (!needsReorder) return;
    scratch = memory(preferred, Engine());
    memory userMem(userDesc, Engine(), DNNL_MEMORY_NONE);
    if (gradient) fromInternal = dnnl::reorder(scratch, userMem);
    else toInternal = dnnl::reorder(userMem, scratch);
  }
  // The memory the primitive reads (or writes, for a gradient).
  memory Bind(float* data, bool gradient) {
    memory userMem(user, Engine(), data);
    if (!needsReorder) return userMem;
    if (!gradient) toInternal.execute(Stream(), userMem, scratch);
    return scratch;
  }
  void Finish(float* data) {
    if (!needsReorder) return;
    memory userMem(user, Engine(), data);
    fromInternal.execute(Stream(), scratch, userMem);
  }
};

dnnl::convolution_forward::primitive_desc ForwardDesc(const ConvGeometry& g, bool bias, bool relu) {
  dnnl::convolution_forward::desc d =
      bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                             g.Src(), g.Weights(tag::any), g.Bias(), g.Dst(), g.Strides(),
                                             g.Dilations(), g.PadL(), g.PadR())
           : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                             g.Src(), g.Weights(tag::any), g.Dst(), g.Strides(), g.Dilations(),
                                             g.PadL(), g.PadR());
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  return dnnl::convolution_forward::primitive_desc(d, attr, Engine());
}

struct ForwardEntry : CachedPrimitive {
  dnnl::convolution_forward conv;
  WeightsPort weights;
};

struct BackwardDataEntry : CachedPrimitive {
  dnnl::convolution_backward_data conv;
  WeightsPort weights;
};

struct BackwardWeightsEntry : CachedPrimitive {
  dnnl::convolution_backward_weights conv;
  WeightsPort weights;
};

// conv2d(x, w, bias|null, out, xShape, wShape, outShape, strides, dilations, padTL, padBR, relu)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  RequireArgs(info, 12, "conv2d");
  Napi::Env env = info.Env();
  ConvGeometry g = ReadGeometry(info, 4, "conv2d");
  F32 x = ArgF32(info, 0, "input", g.n * g.h * g.w * g.c);
  F32 w = ArgF32(info, 1, "filter", g.kh * g.kw * g.c * g.co);
  F32 bias = OptionalF32(info, 2, "bias", g.co);
  F32 out = ArgF32(info, 3, "output", g.n * g.oh * g.ow * g.co);
  bool relu = ArgBool(info, 11, "relu");
  std::string key = g.Key(bias.data ? "convb" : "conv") + (relu ? "r" : "");
  GuardDnnl(env, "conv2d", [&] {
    auto& e = static_cast<ForwardEntry&>(Cached(key, [&] {
      auto entry = std::make_unique<ForwardEntry>();
      auto pd = ForwardDesc(g, bias.data != nullptr, relu);
      entry->conv = dnnl::convolution_forward(pd);
      entry->weights.Init(g.Weights(), pd.weights_desc(), false);
      entry->impl = pd.impl_info_str();
      return entry;
    }));
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(g.Src(), Engine(), x.data)},
                                         {DNNL_ARG_WEIGHTS, e.weights.Bind(w.data, false)},
                                         {DNNL_ARG_DST, memory(g.Dst(), Engine(), out.data)}};
    if (bias.data) args.emplace(DNNL_ARG_BIAS, memory(g.Bias(), Engine(), bias.data));
    e.conv.execute(Stream(), args);
    Stream().wait();
  });
  return env.Undefined();
}

// conv2dBackpropInput(dy, w, dx, xShape, wShape, dyShape, strides, dilations, padTL, padBR)
Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info) {
  RequireArgs(info, 10, "conv2dBackpropInput");
  Napi::Env env = info.Env();
  ConvGeometry g = ReadGeometry(info, 3, "conv2dBackpropInput");
  F32 dy = ArgF32(info, 0, "dy", g.n * g.oh * g.ow * g.co);
  F32 w = ArgF32(info, 1, "filter", g.kh * g.kw * g.c * g.co);
  F32 dx = ArgF32(info, 2, "dx", g.n * g.h * g.w * g.c);
  GuardDnnl(env, "conv2dBackpropInput", [&] {
    auto& e = static_cast<BackwardDataEntry&>(Cached(g.Key("bwd_data"), [&] {
      auto entry = std::make_unique<BackwardDataEntry>();
      auto hint = ForwardDesc(g, false, false);
      dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, g.Src(), g.Weights(tag::any),
                                              g.Dst(), g.Strides(), g.Dilations(), g.PadL(), g.PadR());
      dnnl::convolution_backward_data::primitive_desc pd(d, Engine(), hint);
      entry->conv = dnnl::convolution_backward_data(pd);
      entry->weights.Init(g.Weights(), pd.weights_desc(), false);
      entry->impl = pd.impl_info_str();
      return entry;
    }));
    e.conv.execute(Stream(), {{DNNL_ARG_DIFF_DST, memory(g.Dst(), Engine(), dy.data)},
                              {DNNL_ARG_WEIGHTS, e.weights.Bind(w.data, false)},
                              {DNNL_ARG_DIFF_SRC, memory(g.Src(), Engine(), dx.data)}});
    Stream().wait();
  });
  return env.Undefined();
}

// conv2dBackpropFilter(x, dy, dw, xShape, wShape, dyShape, strides, dilations, padTL, padBR)
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info) {
  RequireArgs(info, 10, "conv2dBackpropFilter");
  Napi::Env env = info.Env();
  ConvGeometry g = ReadGeometry(info, 3, "conv2dBackpropFilter");
  F32 x = ArgF32(info, 0, "input", g.n * g.h * g.w * g.c);
  F32 dy = ArgF32(info, 1, "dy", g.n * g.oh * g.ow * g.co);
  F32 dw = ArgF32(info, 2, "filter gradient", g.kh * g.kw * g.c * g.co);
  GuardDnnl(env, "conv2dBackpropFilter", [&] {
    auto& e = static_cast<BackwardWeightsEntry&>(Cached(g.Key("bwd_weights"), [&] {
      auto entry = std::make_unique<BackwardWeightsEntry>();
      auto hint = ForwardDesc(g, false, false);
      dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, g.Src(), g.Weights(tag::any),
                                                 g.Dst(), g.Strides(), g.Dilations(), g.PadL(), g.PadR());
      dnnl::convolution_backward_weights::primitive_desc pd(d, Engine(), hint);
      entry->conv = dnnl::convolution_backward_weights(pd);
      entry->weights.Init(g.Weights(), pd.diff_weights_desc(), true);
      entry->impl = pd.impl_info_str();
      return entry;
    }));
    e.conv.execute(Stream(), {{DNNL_ARG_SRC, memory(g.Src(), Engine(), x.data)},
                              {DNNL_ARG_DIFF_DST, memory(g.Dst(), Engine(), dy.data)},
                              {DNNL_ARG_DIFF_WEIGHTS, e.weights.Bind(dw.data, true)}});
    e.weights.Finish(dw.data);
    Stream().wait();
  });
  return env.Undefined();
}

}  // namespace

void RegisterConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2d));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2dBackpropInput));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2dBackpropFilter));
}

}  // namespace gradsync
