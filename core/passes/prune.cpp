// PLACEHOLDER until the prune pass lands: refuses to run rather than doing nothing.
#include "core/passes/passes.h"

namespace nng {

PassInfo prunePass() {
  return PassInfo{"prune", "(not implemented yet)", [](Graph &, PassContext &) -> bool {
                    throw UserError("pass 'prune' is not implemented yet");
                  }};
}

} // namespace nng
