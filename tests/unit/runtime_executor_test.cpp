// The executor on the CPU backend: symbol binding, buffers, and a forward pass with
// known values.
#include <gtest/gtest.h>

#include "core/cpu/cpu_backend.h"
#include "core/ops/registry.h"
#include "core/runtime/executor.h"
#include "graph_testing.h"

namespace nng {
namespace {

using testing::addOp;

TEST(Executor, DenseReluForwardWithKnownValues) {
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {Dim::sym("N"), 2}});
  ValueId w = g.addParam("w", TensorType{DType::F32, {2, 3}}, Initializer{"zeros", {}});
  ValueId b = g.addParam("b", TensorType{DType::F32, {3}}, Initializer{"zeros", {}});
  ValueId y = addOp(g, "relu", {addOp(g, "add", {addOp(g, "matmul", {x, w}), b})}, {}, "y");
  auto backend = makeCpuBackend();
  Executor ex(g, *backend);
  ex.bindFromInputs({{x, {2, 2}}});
  float xs[] = {1, 2, 3, 4};
  float ws[] = {1, 0, -1, 0, 1, -1};
  float bs[] = {0.5f, -10, 0};
  ex.write(x, xs, sizeof xs);
  ex.write(w, ws, sizeof ws);
  ex.write(b, bs, sizeof bs);
  ex.run(KernelContext{});
  EXPECT_EQ(ex.read<float>(y), (std::vector<float>{1.5f, 0, 0, 3.5f, 0, 0}));
  EXPECT_EQ(ex.tensor(y).shape, (std::vector<int64_t>{2, 3}));

  // A smaller batch reuses the buffers with the new shape.
  ex.bindFromInputs({{x, {1, 2}}});
  ex.write(x, xs, 2 * sizeof(float));
  ex.run(KernelContext{});
  EXPECT_EQ(ex.read<float>(y), (std::vector<float>{1.5f, 0, 0}));
}

TEST(Executor, InputShapeMismatchIsAUserError) {
  Graph g;
  ValueId x = g.addInput("x", TensorType{DType::F32, {Dim::sym("N"), 784}});
  ValueId label = g.addInput("label", TensorType{DType::I64, {Dim::sym("N")}});
  auto backend = makeCpuBackend();
  Executor ex(g, *backend);
  try {
    ex.bindFromInputs({{x, {8, 28, 28}}});
    FAIL() << "expected a UserError";
  } catch (const UserError &e) {
    EXPECT_STREQ(e.what(), "input 'x' expects f32[N, 784], got shape [8, 28, 28]");
  }
  try {
    ex.bindFromInputs({{x, {8, 784}}, {label, {7}}});
    FAIL() << "expected a UserError";
  } catch (const UserError &e) {
    EXPECT_STREQ(e.what(), "dimension 'N' is 8 in one input and 7 in input 'label'");
  }
}

TEST(Executor, UnknownDeviceIsAUserError) {
  registerCpuBackend();
  EXPECT_EQ(createBackend("cpu")->name(), "cpu");
  EXPECT_THROW(createBackend("tpu"), UserError);
}

} // namespace
} // namespace nng
