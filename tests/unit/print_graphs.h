// Hand-built graphs shared by the printer tests (print_*.cpp). Elementwise ops are typed by
// the op registry; ops from other families get their types written out, so these tests
// exercise only the printers.
#pragma once

#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "core/ops/registry.h"
#include "graph_testing.h"

namespace nng::testing {

inline TensorType tt(DType dtype, Shape shape) { return TensorType{dtype, std::move(shape)}; }

// The flat-form example of the design notes, made whole: every kind of value and
// statement the nn printer writes.
inline Graph mlpGraph() {
  Graph g;
  g.name = "mlp";
  const Dim n = Dim::sym("N");
  ValueId x = g.addInput("x", tt(DType::F32, {n, 784}));
  ValueId label = g.addInput("label", tt(DType::I64, {n}));
  ValueId w1 = g.addParam("fc1.weight", tt(DType::F32, {784, 512}), {"he_normal", {}});
  ValueId b1 = g.addParam("fc1.bias", tt(DType::F32, {512}), {"zeros", {}});
  g.addParam("w", tt(DType::F32, {3}), {"normal", {Attr::ofFloat(0.0), Attr::ofFloat(0.02)}});
  g.addParam("bn.running_mean", tt(DType::F32, {16}), {"zeros", {}}, {}, ValueKind::Buffer);
  ValueId t0 = g.addNode("matmul", {x, w1}, {}, tt(DType::F32, {n, 512}));
  ValueId fc1 = addOp(g, "add", {t0, b1}, {}, "fc1");
  ValueId half = addOp(g, "constant", {}, {{"value", Attr::ofFloat(0.5)}});
  ValueId h = addOp(g, "relu", {fc1}, {}, "h");
  ValueId logits = addOp(g, "mul", {h, half}, {}, "logits");
  ValueId y = g.addNode("reshape", {h},
                        {{"shape", Attr::ofList({Attr::ofInt(-1), Attr::ofInt(512),
                                                 Attr::ofInt(1)})}},
                        tt(DType::F32, {n, 512, 1}), "y");
  ValueId loss = g.addNode("cross_entropy", {logits, label}, {}, tt(DType::F32, {}), "loss");
  g.markOutput(logits);
  g.markOutput(y);
  g.setLoss(loss);
  return g;
}

} // namespace nng::testing
