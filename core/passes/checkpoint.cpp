// PLACEHOLDER until the checkpoint pass lands: refuses to run rather than doing nothing.
#include "core/passes/passes.h"

namespace nng {

PassInfo checkpointPass() {
  return PassInfo{"checkpoint", "(not implemented yet)", [](Graph &, PassContext &) -> bool {
                    throw UserError("pass 'checkpoint' is not implemented yet");
                  }};
}

} // namespace nng
