// PLACEHOLDER until the schedule pass lands: refuses to run rather than doing nothing.
#include "core/passes/passes.h"

namespace nng {

PassInfo schedulePass() {
  return PassInfo{"schedule", "(not implemented yet)", [](Graph &, PassContext &) -> bool {
                    throw UserError("pass 'schedule' is not implemented yet");
                  }};
}

} // namespace nng
