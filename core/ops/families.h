// Registration entry points, one per op family file (called once from opRegistry()).
#pragma once

namespace nng {
class OpRegistry;

void registerElementwiseOps(OpRegistry &r); // ops/elementwise.cpp
void registerLinalgOps(OpRegistry &r);      // ops/linalg.cpp
void registerShapeOps(OpRegistry &r);       // ops/shape_ops.cpp
void registerReductionOps(OpRegistry &r);   // ops/reduction.cpp
void registerLossOps(OpRegistry &r);        // ops/loss.cpp
void registerNnOps(OpRegistry &r);          // ops/nn.cpp: conv, pooling, norms, dropout, embedding
void registerFusedOps(OpRegistry &r);       // ops/fused.cpp
void registerOptimizerOps(OpRegistry &r);   // ops/optimizer.cpp
void registerAmpOps(OpRegistry &r);         // ops/amp.cpp: loss scaling for mixed precision
// Gradient rules and backward ops; runs last, it reads the forward entries.
void registerBackwardOps(OpRegistry &r); // ops/backward.cpp

inline void registerAllOpFamilies(OpRegistry &r) {
  registerElementwiseOps(r);
  registerLinalgOps(r);
  registerShapeOps(r);
  registerReductionOps(r);
  registerLossOps(r);
  registerNnOps(r);
  registerFusedOps(r);
  registerOptimizerOps(r);
  registerAmpOps(r);
  registerBackwardOps(r);
}
} // namespace nng
