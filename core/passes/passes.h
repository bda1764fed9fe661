// The passes nng ships, one factory per file; pass_manager.cpp lists them in
// canonical order. Registration is explicit (no static initializers).
#pragma once

#include "core/passes/pass.h"

namespace nng {

PassInfo prunePass();      // prune.cpp: dead code, constant folding, identities, CSE
PassInfo gradPass();       // autodiff.cpp: reverse-mode differentiation of the loss
PassInfo fusePass();       // fuse.cpp: dense+bias+act, elementwise chains, softmax+CE
PassInfo ampPass();        // amp.cpp: fp16/bf16 mixed precision with loss scaling
PassInfo checkpointPass(); // checkpoint.cpp: recompute segments in the backward pass
PassInfo reusePass();      // reuse.cpp: memory planning (liveness, in place, arena)
PassInfo schedulePass();   // schedule.cpp: parallel streams

} // namespace nng
