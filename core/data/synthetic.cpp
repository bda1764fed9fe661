// Synthetic datasets (blobs, spirals, random), generated from a seed so every example
// can train without files. The recipes are documented in readers.h.
#include <cmath>

#include "core/data/random.h"
#include "core/data/readers.h"

namespace nng {

constexpr double kPi = 3.14159265358979323846;

std::map<std::string, RawArray> generateSynthetic(const SyntheticSpec &spec) {
  NNG_CHECK(spec.samples > 0 && spec.classes > 0 && spec.features > 0,
            "synthetic spec not validated");
  NNG_CHECK(spec.kind != SyntheticKind::Spirals || spec.features == 2, "spirals are 2-d");
  Rng rng(spec.seed);
  const int64_t n = spec.samples, k = spec.classes, f = spec.features;

  std::vector<float> x(static_cast<size_t>(shapeElements({n, f}, "synthetic data")));
  std::vector<int64_t> label(static_cast<size_t>(n));
  switch (spec.kind) {
  case SyntheticKind::Blobs: {
    std::vector<double> centres(static_cast<size_t>(k * f));
    for (double &c : centres)
      c = rng.uniform() * 10.0 - 5.0;
    for (int64_t i = 0; i < n; ++i) {
      label[i] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(k)));
      for (int64_t j = 0; j < f; ++j)
        x[i * f + j] = static_cast<float>(centres[label[i] * f + j] + rng.normal());
    }
    break;
  }
  case SyntheticKind::Spirals:
    for (int64_t i = 0; i < n; ++i) {
      label[i] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(k)));
      double t = rng.uniform();
      double angle =
          2.0 * kPi * static_cast<double>(label[i]) / static_cast<double>(k) + 3.0 * kPi * t;
      double nx = rng.normal(), ny = rng.normal();
      x[i * 2] = static_cast<float>(t * std::cos(angle) + 0.1 * nx);
      x[i * 2 + 1] = static_cast<float>(t * std::sin(angle) + 0.1 * ny);
    }
    break;
  case SyntheticKind::Random:
    for (int64_t i = 0; i < n; ++i) {
      label[i] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(k)));
      for (int64_t j = 0; j < f; ++j)
        x[i * f + j] = static_cast<float>(rng.normal());
    }
    break;
  }

  std::map<std::string, RawArray> out;
  RawArray &xa = out["x"];
  xa.type = FileType::F32;
  xa.shape = {n, f};
  xa.file = "<synthetic>";
  xa.bytes.resize(x.size() * sizeof(float));
  std::memcpy(xa.bytes.data(), x.data(), xa.bytes.size());
  RawArray &la = out["label"];
  la.type = FileType::I64;
  la.shape = {n};
  la.file = "<synthetic>";
  la.bytes.resize(label.size() * sizeof(int64_t));
  std::memcpy(la.bytes.data(), label.data(), la.bytes.size());
  return out;
}

} // namespace nng
