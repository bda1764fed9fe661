// PLACEHOLDER until the fuse pass lands: refuses to run rather than doing nothing.
#include "core/passes/passes.h"

namespace nng {

PassInfo fusePass() {
  return PassInfo{"fuse", "(not implemented yet)", [](Graph &, PassContext &) -> bool {
                    throw UserError("pass 'fuse' is not implemented yet");
                  }};
}

} // namespace nng
