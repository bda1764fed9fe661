// Gradient checking (see gradcheck.h). Stages: retype the model to float64, append
// its backward graph, feed random inputs and parameters, run once for the analytic
// gradients, then for each probed element run the forward part at p +- eps and
// p +- 2 eps and compare the five-point difference quotient with the analytic value.
#include "core/train/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/cpu/cpu_backend.h"
#include "core/data/random.h"
#include "core/ir/retype.h"
#include "core/ops/registry.h"
#include "core/passes/autodiff.h"
#include "core/runtime/executor.h"
#include "core/runtime/initializers.h"

namespace nng {

namespace {

// The exclusive upper bound for random values of an integer input: class labels
// must be valid classes, embedding ids valid rows.
int64_t integerRange(const Graph &g, ValueId input) {
  for (const Node &n : g.nodes()) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (n.inputs[i] != input)
        continue;
      const OpDef *op = opRegistry().find(n.op);
      if (!op || !op->indexInput || op->indexInput->input != static_cast<int>(i))
        continue;
      const Shape &indexed = g.typeOf(n.inputs.at(op->indexInput->of)).shape;
      const int axis = op->indexInput->axis;
      const int64_t rank = static_cast<int64_t>(indexed.size());
      return indexed.at(static_cast<size_t>(axis < 0 ? rank + axis : axis)).value;
    }
  }
  return 2;
}

void fillRandom(Executor &ex, const Graph &g, ValueId v, Rng &rng) {
  const Tensor &t = ex.tensor(v);
  const size_t n = static_cast<size_t>(t.elements());
  switch (t.dtype) {
  case DType::F64: {
    std::vector<double> host(n);
    const Value &val = g.value(v);
    if (val.kind == ValueKind::Input) {
      for (double &x : host)
        x = rng.normal();
    } else {
      // The initializer's values, jittered so that zeros/ones params still probe
      // a generic point.
      std::vector<float> init;
      initializeHost(val.init, t.shape, rng, init);
      for (size_t i = 0; i < n; ++i)
        host[i] = init[i] + 0.1 * rng.normal();
    }
    ex.write(v, host.data(), host.size() * sizeof(double));
    return;
  }
  case DType::I64: case DType::I32: {
    int64_t range = std::max<int64_t>(1, integerRange(g, v));
    std::vector<int64_t> host(n);
    for (int64_t &x : host)
      x = static_cast<int64_t>(rng.below(static_cast<uint64_t>(range)));
    if (t.dtype == DType::I64)
      return ex.write(v, host.data(), n * sizeof(int64_t));
    std::vector<int32_t> narrow(host.begin(), host.end());
    return ex.write(v, narrow.data(), n * sizeof(int32_t));
  }
  default:
    throw UserError(std::string("gradcheck: cannot feed an input of dtype ") +
                    dtypeName(t.dtype));
  }
}

} // namespace

std::vector<ParamGradError> gradCheck(const Graph &model, const GradCheckOptions &opts) {
  if (!model.loss())
    throw UserError("gradcheck: model '" + model.name + "' has no 'minimize' statement");
  Graph g = retypeFloats(model, DType::F32, DType::F64);
  const size_t forwardNodes = g.nodes().size();
  differentiate(g);

  auto backend = makeCpuBackend();
  Executor ex(g, *backend);
  std::map<std::string, int64_t> dims;
  for (const Value &v : g.values())
    for (const Dim &d : v.type.shape)
      if (d.isSymbolic())
        dims[d.symbol] = opts.batch;
  ex.bind(dims);

  Rng rng(opts.seed);
  for (ValueId v : g.inputs())
    fillRandom(ex, g, v, rng);
  for (ValueId v : g.params())
    fillRandom(ex, g, v, rng);

  KernelContext ctx;
  ctx.seed = opts.seed;
  ex.run(ctx);
  const ValueId loss = *g.loss();
  auto lossAt = [&]() {
    ex.run(ctx, 0, forwardNodes);
    return ex.read<double>(loss)[0];
  };

  std::vector<ParamGradError> out;
  for (ValueId p : g.params()) {
    const Value &pv = g.value(p);
    if (pv.kind != ValueKind::Param)
      continue;
    ParamGradError r;
    r.param = pv.name;
    ValueId gv = g.find(gradName(pv.name));
    const Tensor &pt = ex.tensor(p);
    const int64_t n = pt.elements();
    std::vector<double> analytic =
        gv == kNone ? std::vector<double>(static_cast<size_t>(n), 0.0) : ex.read<double>(gv);
    std::vector<int64_t> probe;
    if (n <= opts.elementsPerParam) {
      for (int64_t i = 0; i < n; ++i)
        probe.push_back(i);
    } else {
      std::set<int64_t> picked;
      while (static_cast<int64_t>(picked.size()) < opts.elementsPerParam)
        picked.insert(static_cast<int64_t>(rng.below(static_cast<uint64_t>(n))));
      probe.assign(picked.begin(), picked.end());
    }
    double *data = pt.as<double>(); // the CPU backend's memory is host memory
    for (int64_t i : probe) {
      const double saved = data[i];
      auto at = [&](double offset) {
        data[i] = saved + offset;
        return lossAt();
      };
      // Five-point central difference: truncation error O(h^4), so h can be large
      // enough that float64 rounding in the loss (about 1e-15 relative after many
      // ops) stays near 1e-11 in the derivative.
      auto quotient = [&](double h) {
        return (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h);
      };
      // A step that crosses a kink (a ReLU or a max-pool switch) gives a wrong
      // quotient: the estimate is accepted only where it agrees with the one at a
      // ten times smaller step; otherwise the step shrinks. The analytic gradient
      // plays no part in this choice.
      auto agree = [](double x, double y) {
        return std::fabs(x - y) <= 1e-6 * std::max({std::fabs(x), std::fabs(y), kGradCheckFloor});
      };
      double h = opts.eps;
      double numeric = quotient(h), finer = quotient(h / 10);
      for (int level = 0; level < 3 && !agree(numeric, finer); ++level) {
        h /= 10;
        numeric = finer;
        finer = quotient(h / 10);
      }
      data[i] = saved;
      const double a = analytic[static_cast<size_t>(i)];
      const double err =
          std::fabs(a - numeric) / std::max({std::fabs(a), std::fabs(numeric), kGradCheckFloor});
      if (err >= r.maxRelError) {
        r.maxRelError = err;
        r.analytic = a;
        r.numeric = numeric;
      }
      ++r.checked;
    }
    out.push_back(r);
  }
  return out;
}

} // namespace nng
