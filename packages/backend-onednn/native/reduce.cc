// Reductions over one contiguous block of axes: x viewed as [outer, reduced, inner] gives
// [outer, inner]. Sums accumulate in double (as tfjs-backend-cpu's JavaScript numbers do).
#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

#include "args.h"

namespace gradsync {

namespace {

enum class ReduceOp { kSum, kMean, kMax, kMin };

struct Accumulator {
  ReduceOp op;
  double Start() const {
    if (op == ReduceOp::kMax) return -std::numeric_limits<double>::infinity();
    if (op == ReduceOp::kMin) return std::numeric_limits<double>::infinity();
    return 0.0;
  }
  double Add(double acc, double v) const {
    if (op == ReduceOp::kMax) return (v > acc || std::isnan(v) || std::isnan(acc)) ? (std::isnan(acc) ? acc : v) : acc;
    if (op == ReduceOp::kMin) return (v < acc || std::isnan(v) || std::isnan(acc)) ? (std::isnan(acc) ? acc : v) : acc;
    return acc + v;
  }
  // Combining partial results is the same operation for all four (mean divides at the end).
  double Finish(double acc, int64_t count) const { return op == ReduceOp::kMean ? acc / static_cast<double>(count) : acc; }
};

// reduce(op, x, out, outer, reduced, inner)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  RequireArgs(info, 6, "reduce");
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "op");
  ReduceOp op;
  if (name == "Sum") op = ReduceOp::kSum;
  else if (name == "Mean") op = ReduceOp::kMean;
  else if (name == "Max") op = ReduceOp::kMax;
  else if (name == "Min") op = ReduceOp::kMin;
  else ThrowType(env, "reduce: unknown op '" + name + "'");
  int64_t outer = ArgInt(info, 3, "outer", 0, int64_t(1) << 40);
  int64_t reduced = ArgInt(info, 4, "reduced", 0, int64_t(1) << 40);
  int64_t inner = ArgInt(info, 5, "inner", 0, int64_t(1) << 40);
  if (outer * reduced > (int64_t(1) << 40) / std::max<int64_t>(inner, 1)) ThrowType(env, "reduce: too large");
  F32 x = ArgF32(info, 1, "x", static_cast<size_t>(outer * reduced * inner));
  F32 out = ArgF32(info, 2, "output", static_cast<size_t>(outer * inner));
  Accumulator acc{op};
  if (reduced == 0) {
    for (int64_t i = 0; i < outer * inner; i++) out.data[i] = static_cast<float>(acc.Finish(acc.Start(), 0));
    return env.Undefined();
  }
  int64_t total = outer * reduced * inner;
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (total > 32768 && outer > 1)
    for (int64_t o = 0; o < outer; o++) {
      const float* p = x.data + o * reduced;
      double a = acc.Start();
      for (int64_t r = 0; r < reduced; r++) a = acc.Add(a, p[r]);
      out.data[o] = static_cast<float>(acc.Finish(a, reduced));
    }
    if (outer > 1 || total <= 32768) return env.Undefined();
  }
  // Leading-axes reduction ([N*H*W, C] -> [C] in batch norm's gradient) and the general case:
  // each thread reduces a fixed slice of `reduced` for every output, then slices combine in order.
  int threads = (total > 32768) ? omp_get_max_threads() : 1;
  std::vector<double> partial(static_cast<size_t>(threads) * outer * inner, acc.Start());
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num();
    int64_t begin = reduced * t / threads, end = reduced * (t + 1) / threads;
    double* mine = partial.data() + static_cast<size_t>(t) * outer * inner;
    for (int64_t o = 0; o < outer; o++)
      for (int64_t r = begin; r < end; r++) {
        const float* p = x.data + (o * reduced + r) * inner;
        double* q = mine + o * inner;
        for (int64_t j = 0; j < inner; j++) q[j] = acc.Add(q[j], p[j]);
      }
  }
  for (int64_t i = 0; i < outer * inner; i++) {
    double a = partial[i];
    for (int t = 1; t < threads; t++) a = acc.Add(a, partial[static_cast<size_t>(t) * outer * inner + i]);
    out.data[i] = static_cast<float>(acc.Finish(a, reduced));
  }
  return env.Undefined();
}

}  // namespace

void RegisterReduce(Napi::Env env, Napi::Object exports) { exports.Set("reduce", Napi::Function::New(env, Reduce)); }

}  // namespace gradsync
