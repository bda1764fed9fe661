// Parameter initializers (zeros, he_normal, ...): values computed on the host
// from a seed, so weights are identical on every backend.
#pragma once

#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/data/random.h"

namespace nng {

// The initializers the language accepts, with their argument counts.
struct InitializerInfo {
  const char *name;
  size_t args;
  const char *doc;
};
const std::vector<InitializerInfo> &initializerKinds();

// Checks kind and arity; throws UserError with a did-you-mean.
void validateInitializer(const Initializer &init, const SourceLoc &loc);

// Fills `out` (float32 host values) for a tensor of `shape`. Fan-in/fan-out follow
// nng's layouts: dense weights are [in, out]; conv weights [F, C, kh, kw].
void initializeHost(const Initializer &init, const std::vector<int64_t> &shape, Rng &rng,
                    std::vector<float> &out);

} // namespace nng
