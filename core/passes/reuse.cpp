// PLACEHOLDER until the reuse pass lands: refuses to run rather than doing nothing.
#include "core/passes/passes.h"

namespace nng {

PassInfo reusePass() {
  return PassInfo{"reuse", "(not implemented yet)", [](Graph &, PassContext &) -> bool {
                    throw UserError("pass 'reuse' is not implemented yet");
                  }};
}

} // namespace nng
