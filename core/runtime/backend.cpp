// Backend registry and Tensor helpers.
#include "core/runtime/backend.h"

#include <map>

namespace nng {

int64_t Tensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static std::map<std::string, BackendFactory> &factories() {
  static std::map<std::string, BackendFactory> f;
  return f;
}

void registerBackend(const std::string &name, BackendFactory factory) {
  factories()[name] = factory;
}

std::vector<std::string> backendNames() {
  std::vector<std::string> out;
  for (const auto &kv : factories())
    out.push_back(kv.first);
  return out;
}

bool backendAvailable(const std::string &spec, std::string &why) {
  const std::string base = spec.substr(0, spec.find(':'));
  if (factories().count(base))
    return true;
  std::string known;
  for (const auto &n : backendNames())
    known += (known.empty() ? "" : ", ") + n;
  why = base == "cuda" ? "device '" + spec + "' is not available: no CUDA backend in this " +
                             "build, or no CUDA device (available: " + known + ")"
                       : "unknown device '" + spec + "' (available: " + known + ")";
  return false;
}

std::unique_ptr<Backend> createBackend(const std::string &spec) {
  std::string why;
  if (!backendAvailable(spec, why))
    throw UserError(why);
  return factories().at(spec.substr(0, spec.find(':')))(spec);
}

} // namespace nng
