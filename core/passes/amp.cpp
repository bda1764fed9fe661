// PLACEHOLDER until the amp pass lands: refuses to run rather than doing nothing.
#include "core/passes/passes.h"

namespace nng {

PassInfo ampPass() {
  return PassInfo{"amp", "(not implemented yet)", [](Graph &, PassContext &) -> bool {
                    throw UserError("pass 'amp' is not implemented yet");
                  }};
}

} // namespace nng
