// Parameter initializers.
#include "core/runtime/initializers.h"

#include <cmath>

namespace nng {

const std::vector<InitializerInfo> &initializerKinds() {
  static const std::vector<InitializerInfo> kinds = {
      {"zeros", 0, "all 0"},
      {"ones", 0, "all 1"},
      {"constant", 1, "constant(v): all v"},
      {"normal", 2, "normal(mean, std)"},
      {"uniform", 2, "uniform(lo, hi)"},
      {"he_normal", 0, "normal(0, sqrt(2 / fan_in)) (Kaiming)"},
      {"he_uniform", 0, "uniform(+-sqrt(6 / fan_in))"},
      {"xavier_uniform", 0, "uniform(+-sqrt(6 / (fan_in + fan_out))) (Glorot)"},
      {"xavier_normal", 0, "normal(0, sqrt(2 / (fan_in + fan_out)))"},
  };
  return kinds;
}

void validateInitializer(const Initializer &init, const SourceLoc &loc) {
  std::vector<std::string> names;
  for (const auto &k : initializerKinds()) {
    names.push_back(k.name);
    if (init.kind != k.name)
      continue;
    if (init.args.size() != k.args)
      throw UserError(Diagnostic{loc,
                                 "initializer '" + init.kind + "' takes " +
                                     std::to_string(k.args) + " argument" +
                                     (k.args == 1 ? "" : "s") + ", got " +
                                     std::to_string(init.args.size()),
                                 {}});
    for (const Attr &a : init.args)
      if (!a.isNumber())
        throw UserError(Diagnostic{loc, "initializer '" + init.kind + "': arguments must be numbers, got " + a.str(), {}});
    return;
  }
  std::string msg = "unknown initializer '" + init.kind + "'";
  std::string near = closestMatch(init.kind, names);
  if (!near.empty())
    msg += "; did you mean '" + near + "'?";
  throw UserError(Diagnostic{loc, msg, {}});
}

static void fans(const std::vector<int64_t> &shape, double &fanIn, double &fanOut) {
  if (shape.empty()) {
    fanIn = fanOut = 1;
  } else if (shape.size() == 1) {
    fanIn = fanOut = static_cast<double>(shape[0]);
  } else if (shape.size() == 2) {
    fanIn = static_cast<double>(shape[0]);
    fanOut = static_cast<double>(shape[1]);
  } else {
    double receptive = 1;
    for (size_t i = 2; i < shape.size(); ++i)
      receptive *= static_cast<double>(shape[i]);
    fanIn = static_cast<double>(shape[1]) * receptive;
    fanOut = static_cast<double>(shape[0]) * receptive;
  }
}

void initializeHost(const Initializer &init, const std::vector<int64_t> &shape, Rng &rng,
                    std::vector<float> &out) {
  size_t n = 1;
  for (int64_t d : shape)
    n *= static_cast<size_t>(d);
  out.assign(n, 0.0f);
  double fanIn, fanOut;
  fans(shape, fanIn, fanOut);
  auto arg = [&](size_t i) { return init.args.at(i).asDouble(); };
  auto fillNormal = [&](double mean, double std) {
    for (float &x : out)
      x = static_cast<float>(mean + std * rng.normal());
  };
  auto fillUniform = [&](double lo, double hi) {
    for (float &x : out)
      x = static_cast<float>(lo + (hi - lo) * rng.uniform());
  };
  const std::string &k = init.kind;
  if (k == "zeros")
    return;
  if (k == "ones")
    out.assign(n, 1.0f);
  else if (k == "constant")
    out.assign(n, static_cast<float>(arg(0)));
  else if (k == "normal")
    fillNormal(arg(0), arg(1));
  else if (k == "uniform")
    fillUniform(arg(0), arg(1));
  else if (k == "he_normal")
    fillNormal(0, std::sqrt(2.0 / fanIn));
  else if (k == "he_uniform")
    fillUniform(-std::sqrt(6.0 / fanIn), std::sqrt(6.0 / fanIn));
  else if (k == "xavier_uniform")
    fillUniform(-std::sqrt(6.0 / (fanIn + fanOut)), std::sqrt(6.0 / (fanIn + fanOut)));
  else if (k == "xavier_normal")
    fillNormal(0, std::sqrt(2.0 / (fanIn + fanOut)));
  else
    NNG_CHECK(false, "unvalidated initializer " + k);
}

} // namespace nng
