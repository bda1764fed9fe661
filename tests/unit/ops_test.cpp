// Op registry tests: for every registered op, valid applications with their exact
// output types and invalid ones with their messages; FLOP counts; broadcasting;
// and checks that the registry and docs/ops.md describe every op completely.
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/diag/diagnostic.h"
#include "core/ops/registry.h"
#include "core/ops/rules.h"

namespace nng {
namespace {

// Parses "f32[N, 784]" (TensorType::str() form) so cases read like the language.
TensorType T(const std::string &s) {
  size_t lb = s.find('[');
  auto dtype = parseDType(s.substr(0, lb));
  NNG_CHECK(dtype && lb != std::string::npos && s.back() == ']', "bad type in test: " + s);
  TensorType t{*dtype, {}};
  std::stringstream body(s.substr(lb + 1, s.size() - lb - 2));
  std::string item;
  while (std::getline(body, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    if (item.empty())
      continue;
    t.shape.push_back(std::isdigit(static_cast<unsigned char>(item[0])) ? Dim(std::stoll(item))
                                                                        : Dim::sym(item));
  }
  return t;
}

std::vector<TensorType> types(const std::vector<std::string> &in) {
  std::vector<TensorType> out;
  for (const std::string &s : in)
    out.push_back(T(s));
  return out;
}

Attr I(int64_t v) { return Attr::ofInt(v); }
Attr F(double v) { return Attr::ofFloat(v); }
Attr B(bool v) { return Attr::ofBool(v); }
Attr Nm(const std::string &v) { return Attr::ofName(v); }
Attr S(const std::string &v) { return Attr::ofString(v); }
Attr L(std::vector<int64_t> v) {
  std::vector<Attr> list;
  for (int64_t x : v)
    list.push_back(Attr::ofInt(x));
  return Attr::ofList(list);
}

// One application: for a valid case `expect` is the exact output type, for an
// invalid one a substring of the TypeError message.
struct Case {
  std::string op;
  std::vector<std::string> inputs;
  AttrMap attrs;
  std::string expect;
};

const std::string kF = "f32[N, 4]";

const std::vector<Case> kValid = {
    // elementwise
    {"neg", {"i32[N, 4]"}, {}, "i32[N, 4]"},
    {"relu", {kF}, {}, kF},
    {"sigmoid", {"f16[N, 4]"}, {}, "f16[N, 4]"},
    {"tanh", {kF}, {}, kF},
    {"gelu", {kF}, {}, kF},
    {"exp", {"f64[]"}, {}, "f64[]"},
    {"log", {kF}, {}, kF},
    {"sqrt", {kF}, {}, kF},
    {"abs", {"i64[3]"}, {}, "i64[3]"},
    {"leaky_relu", {kF}, {{"alpha", F(0.2)}}, kF},
    {"add", {"f32[N, 1, 4]", "f32[3, 1]"}, {}, "f32[N, 3, 4]"},
    {"sub", {"f32[N, 4]", "f32[N, 4]"}, {}, "f32[N, 4]"},
    {"mul", {"f32[]", "f32[2, 3]"}, {}, "f32[2, 3]"},
    {"div", {"f32[1, T]", "f32[N, 1]"}, {}, "f32[N, T]"},
    {"maximum", {"i32[5]", "i32[1]"}, {}, "i32[5]"},
    {"minimum", {"f32[2, 3, 4]", "f32[4]"}, {}, "f32[2, 3, 4]"},
    {"pow", {kF, "f32[]"}, {}, kF},
    {"cast", {kF}, {{"to", Nm("f16")}}, "f16[N, 4]"},
    {"constant", {}, {{"value", F(0.5)}}, "f32[]"},
    {"constant", {}, {{"value", I(2)}, {"dtype", Nm("i64")}}, "i64[]"},
    // linalg
    {"matmul", {"f32[N, 784]", "f32[784, 512]"}, {}, "f32[N, 512]"},
    {"matmul", {"f32[8, 1, 3, 4]", "f32[5, 4, 6]"}, {}, "f32[8, 5, 3, 6]"},
    {"matmul", {"f32[B, T, 16]", "f32[16, 32]"}, {}, "f32[B, T, 32]"},
    {"matmul", {"f16[N, K]", "f16[K, 3]"}, {}, "f16[N, 3]"},
    {"transpose", {"f32[2, 3, 4]"}, {}, "f32[4, 3, 2]"},
    {"transpose", {"f32[2, 3, 4]"}, {{"perm", L({0, 2, 1})}}, "f32[2, 4, 3]"},
    {"transpose", {"f32[N, 3]"}, {{"perm", L({-1, 0})}}, "f32[3, N]"},
    // shape
    {"reshape", {"f32[N, 16, 7, 7]"}, {{"shape", L({-1, 784})}}, "f32[N, 784]"},
    {"reshape", {"f32[N, 784]"}, {{"shape", L({-1, 28, 28})}}, "f32[N, 28, 28]"},
    {"reshape", {"f32[2, 3, 4]"}, {{"shape", L({-1, 4})}}, "f32[6, 4]"},
    {"reshape", {"i64[6]"}, {{"shape", L({2, 3})}}, "i64[2, 3]"},
    {"reshape", {"f32[1]"}, {{"shape", L({})}}, "f32[]"},
    {"reshape", {"f32[N, 1, 1]"}, {{"shape", I(-1)}}, "f32[N]"},
    {"flatten", {"f32[N, 16, 7, 7]"}, {}, "f32[N, 784]"},
    {"flatten", {"f32[2, 3]"}, {{"start_axis", I(0)}}, "f32[6]"},
    {"flatten", {"f32[N, 1]"}, {{"start_axis", I(0)}}, "f32[N]"},
    {"flatten", {"f32[4, N]"}, {}, "f32[4, N]"},
    {"flatten", {"f32[2, 3, 4]"}, {{"start_axis", I(-1)}}, "f32[2, 3, 4]"},
    {"concat", {"f32[N, 4]", "f32[N, 6]"}, {{"axis", I(1)}}, "f32[N, 10]"},
    {"concat", {"f32[2, 3]", "f32[2, 3]", "f32[5, 3]"}, {}, "f32[9, 3]"},
    {"concat", {"f32[N, 4]"}, {}, "f32[N, 4]"},
    {"concat", {"f32[N, 2]", "f32[N, 3]"}, {{"axis", I(-1)}}, "f32[N, 5]"},
    {"slice", {"f32[N, 10]"}, {{"axis", I(1)}, {"begin", I(2)}, {"end", I(5)}}, "f32[N, 3]"},
    {"slice", {"f32[N, 10]"}, {{"axis", I(-1)}, {"begin", I(-3)}, {"end", I(10)}}, "f32[N, 3]"},
    {"slice", {"f32[6, N]"}, {{"axis", I(0)}, {"begin", I(0)}, {"end", I(-1)}}, "f32[5, N]"},
    // reductions
    {"sum", {"f32[N, 3, 4]"}, {}, "f32[]"},
    {"sum", {"f32[N, 3, 4]"}, {{"axis", L({1})}}, "f32[N, 4]"},
    {"sum", {"f32[N, 3, 4]"}, {{"axis", I(0)}}, "f32[3, 4]"},
    {"sum", {"f32[N, 3, 4]"}, {{"axis", L({1, -1})}, {"keepdims", B(true)}}, "f32[N, 1, 1]"},
    {"sum", {"i32[5]"}, {}, "i32[]"},
    {"mean", {"f32[N, 3]"}, {{"keepdims", B(true)}}, "f32[1, 1]"},
    {"mean", {"f32[N, 3]"}, {{"axis", L({0})}}, "f32[3]"},
    {"max", {"f32[N, 5]"}, {{"axis", L({-1})}}, "f32[N]"},
    {"softmax", {"f32[N, 10]"}, {}, "f32[N, 10]"},
    {"softmax", {"f16[N, 10]"}, {{"axis", I(0)}}, "f16[N, 10]"},
    {"log_softmax", {"f32[N, 10]"}, {}, "f32[N, 10]"},
    // losses
    {"cross_entropy", {"f32[N, 10]", "i64[N]"}, {}, "f32[]"},
    {"cross_entropy", {"f16[32, 10]", "i32[32]"}, {}, "f16[]"},
    {"mse", {"f32[N, 1]", "f32[N, 1]"}, {}, "f32[]"},
    {"bce_with_logits", {"f32[N, 3]", "f32[N, 3]"}, {}, "f32[]"},
    // nn
    {"conv2d", {"f32[N, 3, 32, 32]", "f32[16, 3, 3, 3]"}, {{"pad", I(1)}}, "f32[N, 16, 32, 32]"},
    {"conv2d", {"f32[N, 3, 32, 32]", "f32[16, 3, 3, 3]"}, {{"stride", I(2)}}, "f32[N, 16, 15, 15]"},
    {"conv2d", {"f32[1, 1, 5, 7]", "f32[2, 1, 3, 5]"}, {}, "f32[1, 2, 3, 3]"},
    {"conv2d", {"f32[N, 1, 3, 3]", "f32[4, 1, 5, 5]"}, {{"pad", I(1)}}, "f32[N, 4, 1, 1]"},
    {"max_pool2d", {"f32[N, 16, 28, 28]"}, {{"kernel", I(2)}}, "f32[N, 16, 14, 14]"},
    {"max_pool2d",
     {"f32[N, 16, 28, 28]"},
     {{"kernel", I(3)}, {"stride", I(2)}, {"pad", I(1)}},
     "f32[N, 16, 14, 14]"},
    {"avg_pool2d", {"f32[N, 8, 7, 7]"}, {{"kernel", I(3)}, {"stride", I(1)}}, "f32[N, 8, 5, 5]"},
    {"avg_pool2d", {"f32[N, 8, 7, 7]"}, {{"kernel", I(2)}}, "f32[N, 8, 3, 3]"},
    {"global_avg_pool", {"f32[N, 512, 7, 7]"}, {}, "f32[N, 512]"},
    {"batch_norm",
     {"f32[N, 16, 28, 28]", "f32[16]", "f32[16]", "f32[16]", "f32[16]"},
     {},
     "f32[N, 16, 28, 28]"},
    {"batch_norm",
     {"f32[N, 16]", "f32[16]", "f32[16]", "f32[16]", "f32[16]"},
     {{"eps", F(1e-3)}, {"momentum", F(0.01)}},
     "f32[N, 16]"},
    {"layer_norm", {"f32[N, T, 64]", "f32[64]", "f32[64]"}, {}, "f32[N, T, 64]"},
    {"dropout", {"f32[N, 512]"}, {{"p", F(0.1)}}, "f32[N, 512]"},
    {"dropout", {"f32[N, 512]"}, {{"p", I(0)}}, "f32[N, 512]"},
    {"embedding", {"i64[N, T]", "f32[1000, 64]"}, {}, "f32[N, T, 64]"},
    {"embedding", {"i32[N]", "f16[10, 8]"}, {}, "f16[N, 8]"},
    // optimizer updates (in place): the param's type
    {"sgd_update", {"f32[784, 512]", "f32[784, 512]", "f32[784, 512]", "f64[]", "f64[]"}, {},
     "f32[784, 512]"},
    {"adam_update",
     {"f32[10]", "f32[10]", "f32[10]", "f32[10]", "f64[]", "f64[]"},
     {{"decoupled", Attr::ofBool(true)}},
     "f32[10]"},
    // loss scaling (amp): the updates' optional `finite` flag, the check, the scale
    {"sgd_update", {"f32[4]", "f32[4]", "f32[4]", "f64[]", "f64[]", "bool[]"}, {}, "f32[4]"},
    {"all_finite", {"f32[784, 512]", "f32[512]"}, {}, "bool[]"},
    {"loss_scale_update", {"f32[]", "f32[]", "bool[]"}, {{"interval", I(100)}}, "f32[]"},
    // fused
    {"fused_dense",
     {"f32[N, 784]", "f32[784, 512]", "f32[512]"},
     {{"act", Nm("relu")}},
     "f32[N, 512]"},
    {"fused_dense", {"f32[N, T, 64]", "f32[64, 10]", "f32[10]"}, {}, "f32[N, T, 10]"},
    {"fused_conv2d",
     {"f32[N, 3, 32, 32]", "f32[16, 3, 3, 3]", "f32[16, 1, 1]"},
     {{"pad", I(1)}, {"act", Nm("relu")}},
     "f32[N, 16, 32, 32]"},
    {"fused_conv2d",
     {"f32[N, 3, 32, 32]", "f32[16, 3, 3, 3]", "f32[16, 1, 1]"},
     {{"stride", I(2)}},
     "f32[N, 16, 15, 15]"},
    {"softmax_cross_entropy", {"f32[N, 10]", "i64[N]"}, {}, "f32[]"},
    {"fused_elementwise",
     {"f32[N, 4]", "f32[4]"},
     {{"chain", S("relu(add(x0, x1))")}},
     "f32[N, 4]"},
    {"fused_elementwise",
     {"f16[N, 1]", "f16[1, 3]", "f16[]"},
     {{"chain", S("x0 * x1 + x2")}},
     "f16[N, 3]"},
};

const std::vector<Case> kInvalid = {
    // elementwise
    {"neg", {"bool[3]"}, {}, "neg: input must be numeric, got bool[3]"},
    {"relu", {"i32[N, 4]"}, {}, "relu: input must be a float tensor, got i32[N, 4]"},
    {"sigmoid", {"i64[2]"}, {}, "sigmoid: input must be a float tensor"},
    {"tanh", {kF, kF}, {}, "tanh: expected 1 input (x), got 2"},
    {"gelu", {kF}, {{"approximate", B(true)}}, "gelu: unknown attribute 'approximate'"},
    {"exp", {"i32[]"}, {}, "exp: input must be a float tensor"},
    {"log", {"bool[2]"}, {}, "log: input must be a float tensor"},
    {"sqrt", {}, {}, "sqrt: expected 1 input (x), got 0"},
    {"abs", {"bool[3]"}, {}, "abs: input must be numeric, got bool[3]"},
    {"leaky_relu", {kF}, {{"alpha", S("x")}}, "leaky_relu: attribute 'alpha' must be a number"},
    {"leaky_relu", {kF}, {{"alpa", F(0.1)}}, "unknown attribute 'alpa'; did you mean 'alpha'?"},
    {"add",
     {"f32[N, 3]", "f32[M, 3]"},
     {},
     "add: shapes [N, 3] and [M, 3] do not broadcast (N vs M)"},
    {"sub", {"f32[2]", "f16[2]"}, {}, "sub: operand dtypes differ: f32[2] and f16[2]"},
    {"mul", {"f32[N]", "f32[5]"}, {}, "mul: shapes [N] and [5] do not broadcast (N vs 5)"},
    {"div", {"bool[2]", "bool[2]"}, {}, "div: operands must be numeric, got bool"},
    {"maximum", {"f32[16777216, 1]", "f32[1, 33554432]"}, {}, "maximum: the result "},
    {"minimum", {"f32[2, 3]", "f32[3, 2]"}, {}, "do not broadcast (2 vs 3)"},
    {"pow", {"i32[2]", "i32[2]"}, {}, "pow: base must be a float tensor, got i32[2]"},
    {"cast", {kF}, {}, "cast: missing required attribute 'to'"},
    {"cast", {kF}, {{"to", Nm("f8")}}, "cast: attribute 'to' must be a dtype"},
    {"constant", {}, {{"valu", F(1)}}, "did you mean 'value'?"},
    // linalg
    {"matmul",
     {"f32[N, 784]", "f32[512, 10]"},
     {},
     "matmul: inner dimensions differ: f32[N, 784] @ f32[512, 10] (784 vs 512)"},
    {"matmul",
     {"f32[N, K]", "f32[M, 3]"},
     {},
     "inner dimensions differ: f32[N, K] @ f32[M, 3] (K vs M)"},
    {"matmul", {"f32[784]", "f32[784, 10]"}, {}, "matmul: operands must have rank 2 or more"},
    {"matmul",
     {"f32[2, 3, 4]", "f32[5, 4, 6]"},
     {},
     "matmul: batch dimensions do not broadcast: f32[2, 3, 4] @ f32[5, 4, 6] (2 vs 5)"},
    {"matmul", {"i32[2, 2]", "i32[2, 2]"}, {}, "matmul: operands must be float tensors"},
    {"matmul", {"f32[2, 2]", "f16[2, 2]"}, {}, "matmul: operand dtypes differ"},
    {"matmul", {"f32[16777216, 1]", "f32[1, 33554432]"}, {}, "has more than 2^48 elements"},
    {"matmul",
     {"f32[2, 2]", "f32[2, 2]", "f32[2, 2]"},
     {},
     "matmul: expected 2 inputs (a, b), got 3"},
    {"transpose",
     {"f32[2, 3]"},
     {{"perm", L({0, 0})}},
     "transpose: perm [0, 0] is not a permutation: axis 0 appears twice"},
    {"transpose",
     {"f32[2, 3, 4]"},
     {{"perm", L({0, 1})}},
     "transpose: perm [0, 1] has 2 entries, but f32[2, 3, 4] has rank 3"},
    {"transpose",
     {"f32[2, 3]"},
     {{"perm", L({0, 5})}},
     "transpose: axis 5 is out of range for rank 2"},
    // shape
    {"reshape",
     {"f32[N, 784]"},
     {{"shape", L({-1, 100})}},
     "reshape: cannot reshape f32[N, 784] to [-1, 100]: the -1 can only stand for N, so the "
     "other entries must multiply to 784, not 100"},
    {"reshape",
     {"f32[6]"},
     {{"shape", L({-1, -1})}},
     "reshape: shape [-1, -1] has more than one -1"},
    {"reshape",
     {"f32[6]"},
     {{"shape", L({0, 5})}},
     "reshape: shape entries must be positive or -1, got 0 in [0, 5]"},
    {"reshape",
     {"f32[2, 3]"},
     {{"shape", L({4, 2})}},
     "reshape: element counts differ: f32[2, 3] has 6, shape [4, 2] has 8"},
    {"reshape",
     {"f32[2, 3]"},
     {{"shape", L({-1, 4})}},
     "reshape: cannot reshape f32[2, 3] (6 elements) to [-1, 4]: 6 is not a multiple of 4"},
    {"reshape",
     {"f32[N, 4]"},
     {{"shape", L({4, 2})}},
     "reshape: f32[N, 4] has the symbolic dimension N; shape [4, 2] needs a -1 to stand for it"},
    {"reshape",
     {"f32[N, T]"},
     {{"shape", L({-1})}},
     "reshape: f32[N, T] has 2 symbolic dimensions; a -1 can stand for only one"},
    {"reshape",
     {"f32[2]"},
     {{"shape", L({16777216, 33554432})}},
     "reshape: shape [16777216, 33554432] has more than 2^48 elements"},
    {"reshape", {"f32[2]"}, {}, "reshape: missing required attribute 'shape'"},
    {"reshape", {"f32[2]"}, {{"shape", S("2")}}, "reshape: attribute 'shape' must be an integer"},
    {"flatten",
     {"f32[2, N, 3]"},
     {{"start_axis", I(0)}},
     "flatten: cannot flatten f32[2, N, 3] from axis 0: the flattened dimensions [2, N, 3] mix "
     "the symbolic N with others"},
    {"flatten", {"f32[N, N]"}, {{"start_axis", I(0)}}, "mix the symbolic N with others"},
    {"flatten",
     {"f32[2, 3]"},
     {{"start_axis", I(3)}},
     "flatten: axis 3 is out of range for rank 2"},
    {"concat",
     {"f32[N, 4]", "f32[N, 4]"},
     {},
     "concat: cannot concatenate along the symbolic dimension N (axis 0 of f32[N, 4])"},
    {"concat",
     {"f32[2, 4]", "f32[2, 5]"},
     {},
     "concat: input 1 f32[2, 5] differs from input 0 f32[2, 4] in dimension 1 (5 vs 4); only "
     "axis 0 may differ"},
    {"concat", {"f32[N, 4]", "f32[M, 4]"}, {{"axis", I(1)}}, "in dimension 0 (M vs N)"},
    {"concat", {"f32[2]", "f16[2]"}, {}, "concat: dtypes differ: input 1 f16[2], input 0 f32[2]"},
    {"concat", {"f32[2]", "f32[2, 1]"}, {}, "concat: ranks differ: input 1 f32[2, 1] has rank 2"},
    {"concat", {}, {}, "concat: expected at least 1 input (x, ...), got 0"},
    {"concat", {"f32[]", "f32[]"}, {}, "concat: axis 0 is out of range for rank 0"},
    {"slice",
     {"f32[N, 10]"},
     {{"axis", I(0)}, {"begin", I(0)}, {"end", I(1)}},
     "slice: cannot slice the symbolic dimension N (axis 0 of f32[N, 10])"},
    {"slice",
     {"f32[N, 10]"},
     {{"axis", I(1)}, {"begin", I(11)}, {"end", I(12)}},
     "slice: begin 11 is out of range for axis 1 of f32[N, 10] (extent 10)"},
    {"slice",
     {"f32[N, 10]"},
     {{"axis", I(1)}, {"begin", I(0)}, {"end", I(-11)}},
     "slice: end -11 is out of range"},
    {"slice",
     {"f32[N, 10]"},
     {{"axis", I(1)}, {"begin", I(5)}, {"end", I(-5)}},
     "slice: empty slice: begin 5 >= end 5 on axis 1 of f32[N, 10]"},
    {"slice",
     {"f32[N, 10]"},
     {{"begin", I(0)}, {"end", I(1)}},
     "slice: missing required attribute 'axis'"},
    // reductions
    {"sum",
     {"f32[N, 3, 4]"},
     {{"axis", L({1, -2})}},
     "sum: axis 1 appears twice in [1, -2] (input f32[N, 3, 4])"},
    {"sum", {"f32[N, 3, 4]"}, {{"axis", L({3})}}, "sum: axis 3 is out of range for rank 3"},
    {"sum", {"bool[3]"}, {}, "sum: input must be numeric, got bool[3]"},
    {"mean", {"i32[3]"}, {}, "mean: input must be a float tensor, got i32[3]"},
    {"max", {"f32[3]"}, {{"keepdims", I(1)}}, "max: attribute 'keepdims' must be true or false"},
    {"max", {"f32[3]"}, {{"axis", L({0, 0})}}, "max: axis 0 appears twice"},
    {"softmax", {"i64[N, 10]"}, {}, "softmax: input must be a float tensor, got i64[N, 10]"},
    {"softmax", {"f32[N, 10]"}, {{"axis", I(2)}}, "softmax: axis 2 is out of range for rank 2"},
    {"log_softmax", {"f32[]"}, {}, "log_softmax: axis -1 is out of range for rank 0"},
    // losses
    {"cross_entropy",
     {"f32[N, 10]", "f32[N, 10]"},
     {},
     "cross_entropy: labels must be integer class indices (i32 or i64), got f32[N, 10]"},
    {"cross_entropy",
     {"f32[N, 10]", "i64[M]"},
     {},
     "cross_entropy: batch sizes differ: logits f32[N, 10], labels i64[M] (N vs M)"},
    {"cross_entropy", {"f32[N, 10]", "i64[32]"}, {}, "(N vs 32)"},
    {"cross_entropy",
     {"f32[N, T, 10]", "i64[N]"},
     {},
     "cross_entropy: logits must have rank 2 ([batch, classes]), got f32[N, T, 10]"},
    {"cross_entropy",
     {"f32[N, 10]", "i64[N, 1]"},
     {},
     "cross_entropy: labels must have rank 1 ([batch]), got i64[N, 1]"},
    {"cross_entropy", {"i32[N, 10]", "i64[N]"}, {}, "cross_entropy: logits must be a float tensor"},
    {"mse",
     {"f32[N, 1]", "f32[N]"},
     {},
     "mse: pred and target must have the same type, got f32[N, 1] and f32[N] (losses do not "
     "broadcast)"},
    {"mse", {"i32[3]", "i32[3]"}, {}, "mse: pred must be a float tensor"},
    {"bce_with_logits",
     {"f32[3]", "f16[3]"},
     {},
     "bce_with_logits: logits and target must have the same type, got f32[3] and f16[3]"},
    // nn
    {"conv2d",
     {"f32[N, 3, 32, 32]", "f32[16, 1, 3, 3]"},
     {},
     "conv2d: channels differ: input f32[N, 3, 32, 32] has 3, weight f32[16, 1, 3, 3] expects 1"},
    {"conv2d",
     {"f32[N, 1, 3, 3]", "f32[4, 1, 5, 5]"},
     {},
     "conv2d: kernel 5x5 is larger than the padded input 3x3 (f32[N, 1, 3, 3], pad 0)"},
    {"conv2d",
     {"f32[N, 1, 8, 8]", "f32[4, 1, 3, 3]"},
     {{"stride", I(0)}},
     "conv2d: stride must be at least 1, got 0"},
    {"conv2d",
     {"f32[N, 1, 8, 8]", "f32[4, 1, 3, 3]"},
     {{"pad", I(-1)}},
     "conv2d: pad must be between 0 and 2^48, got -1"},
    {"conv2d",
     {"f32[3, 32, 32]", "f32[16, 3, 3, 3]"},
     {},
     "conv2d: input x ([N, C, H, W]) must have rank 4, got f32[3, 32, 32]"},
    {"conv2d",
     {"f32[N, 3, H, W]", "f32[16, 3, 3, 3]"},
     {},
     "conv2d: the spatial dimensions must be numbers, got f32[N, 3, H, W]"},
    {"conv2d", {"f32[N, 3, 8, 8]", "f16[4, 3, 3, 3]"}, {}, "conv2d: operand dtypes differ"},
    {"max_pool2d", {"f32[N, 16, 28, 28]"}, {}, "max_pool2d: missing required attribute 'kernel'"},
    {"max_pool2d",
     {"f32[N, 16, 28, 28]"},
     {{"kernel", I(2)}, {"pad", I(2)}},
     "max_pool2d: pad 2 must be at most half the kernel 2"},
    {"max_pool2d",
     {"f32[N, 16, 28, 28]"},
     {{"kernel", I(0)}},
     "max_pool2d: kernel must be between 1 and 2^48, got 0"},
    {"max_pool2d",
     {"f32[N, 16, 4, 4]"},
     {{"kernel", I(5)}},
     "max_pool2d: kernel 5x5 is larger than the padded input 4x4"},
    {"avg_pool2d",
     {"f32[N, 16, 4, 4]"},
     {{"kernel", I(2)}, {"stride", I(-1)}},
     "avg_pool2d: stride must be at least 1, got -1"},
    {"avg_pool2d",
     {"i32[N, 16, 4, 4]"},
     {{"kernel", I(2)}},
     "avg_pool2d: input x must be a float tensor"},
    {"global_avg_pool",
     {"f32[N, 512]"},
     {},
     "global_avg_pool: input x ([N, C, H, W]) must have rank 4, got f32[N, 512]"},
    {"batch_norm",
     {"f32[N, 16, 28, 28]", "f32[8]", "f32[16]", "f32[16]", "f32[16]"},
     {},
     "batch_norm: gamma must be f32[16] (one value per channel (axis 1) of f32[N, 16, 28, 28]), "
     "got f32[8]"},
    {"batch_norm",
     {"f32[N, 16]", "f32[16]", "f32[16]", "f32[16]", "f16[16]"},
     {},
     "batch_norm: running_var must be f32[16]"},
    {"batch_norm",
     {"f32[N, 16]", "f32[16]", "f32[16]", "f32[16]", "f32[16]"},
     {{"eps", F(0)}},
     "batch_norm: eps must be positive, got 0.0"},
    {"batch_norm",
     {"f32[N, 16]", "f32[16]", "f32[16]", "f32[16]", "f32[16]"},
     {{"momentum", F(1.5)}},
     "batch_norm: momentum must be in [0, 1], got 1.5"},
    {"batch_norm",
     {"f32[16]", "f32[16]", "f32[16]", "f32[16]", "f32[16]"},
     {},
     "batch_norm: input x must have rank 2 or more ([N, C, ..]), got f32[16]"},
    {"batch_norm", {"f32[N, 16]", "f32[16]"}, {}, "batch_norm: expected 5 inputs"},
    {"layer_norm",
     {"f32[N, 64]", "f32[32]", "f32[64]"},
     {},
     "layer_norm: gamma must be f32[64] (one value per feature (last axis) of f32[N, 64]), got "
     "f32[32]"},
    {"layer_norm",
     {"f32[N, 64]", "f32[64]", "f32[64]"},
     {{"eps", F(-1)}},
     "layer_norm: eps must be positive, got -1.0"},
    {"dropout", {"f32[N, 512]"}, {{"p", F(1.0)}}, "dropout: p must be in [0, 1), got 1.0"},
    {"dropout", {"f32[N, 512]"}, {{"p", F(-0.1)}}, "dropout: p must be in [0, 1), got -0.1"},
    {"dropout", {"i32[N]"}, {}, "dropout: input x must be a float tensor"},
    {"embedding",
     {"f32[N, T]", "f32[1000, 64]"},
     {},
     "embedding: ids must be an integer tensor (i32 or i64), got f32[N, T]"},
    {"embedding",
     {"i64[N]", "f32[10, 8, 2]"},
     {},
     "embedding: weight ([vocab, dim]) must have rank 2, got f32[10, 8, 2]"},
    // optimizer updates
    {"sgd_update",
     {"f32[4, 3]", "f32[4, 2]", "f32[4, 3]", "f64[]", "f64[]"},
     {},
     "sgd_update: input 1 is f32[4, 2], the param is f32[4, 3]"},
    {"adam_update",
     {"f32[3]", "f32[3]", "f32[3]", "f32[3]", "f32[]", "f64[]"},
     {},
     "adam_update: lr and step must be f64[], got f32[]"},
    {"sgd_update",
     {"f32[3]", "f32[3]", "f32[3]", "f64[]", "f64[]", "f32[]"},
     {},
     "sgd_update: finite must be bool[], got f32[]"},
    {"sgd_update",
     {"f32[3]", "f32[3]", "f32[3]", "f64[]"},
     {},
     "sgd_update: expected 5 to 6 inputs (param, grad, momentum_buf, lr, step, finite), got 4"},
    {"all_finite", {"i64[3]"}, {}, "all_finite: input 0 must be a float tensor, got i64[3]"},
    {"loss_scale_update",
     {"f32[]", "f32[]", "f32[]"},
     {},
     "loss_scale_update: finite must be bool[], got f32[]"},
    // fused
    {"fused_dense",
     {"f32[N, 784]", "f32[784, 512]", "f32[512]"},
     {{"act", Nm("swish")}},
     "fused_dense: act must be one of none, relu, gelu, sigmoid, tanh; got 'swish'"},
    {"fused_dense",
     {"f32[N, 784]", "f32[784, 512]", "f32[512]"},
     {{"act", Nm("rellu")}},
     "did you mean 'relu'?"},
    {"fused_dense",
     {"f32[N, 784]", "f32[784, 512]", "f32[784]"},
     {},
     "fused_dense: bias b must be f32[512] (one value per output column of f32[784, 512]), got "
     "f32[784]"},
    {"fused_dense",
     {"f32[N, 784]", "f32[512, 10]", "f32[10]"},
     {},
     "fused_dense: inner dimensions differ: f32[N, 784] @ f32[512, 10] (784 vs 512)"},
    {"fused_dense",
     {"f32[N, 4]", "f32[2, 4, 5]", "f32[5]"},
     {},
     "fused_dense: weight w ([K, M]) must have rank 2"},
    {"fused_conv2d",
     {"f32[N, 3, 32, 32]", "f32[16, 3, 3, 3]", "f32[16]"},
     {},
     "fused_conv2d: bias b must be f32[16, 1, 1] (one value per output channel of "
     "f32[16, 3, 3, 3]), got f32[16]"},
    {"fused_conv2d",
     {"f32[N, 3, 32, 32]", "f32[16, 1, 3, 3]", "f32[16, 1, 1]"},
     {},
     "fused_conv2d: channels differ: input f32[N, 3, 32, 32] has 3, weight f32[16, 1, 3, 3] "
     "expects 1"},
    {"fused_conv2d",
     {"f32[N, 3, 32, 32]", "f32[16, 3, 3, 3]", "f32[16, 1, 1]"},
     {{"act", Nm("swish")}},
     "fused_conv2d: act must be one of none, relu, gelu, sigmoid, tanh; got 'swish'"},
    {"softmax_cross_entropy",
     {"f32[N, 10]", "i64[M]"},
     {},
     "softmax_cross_entropy: batch sizes differ: logits f32[N, 10], labels i64[M] (N vs M)"},
    {"fused_elementwise",
     {"f32[N, 4]"},
     {{"chain", S("")}},
     "fused_elementwise: chain must describe the computation"},
    {"fused_elementwise",
     {"f32[N, 4]"},
     {},
     "fused_elementwise: missing required attribute 'chain'"},
    {"fused_elementwise",
     {"f32[N, 4]", "f16[4]"},
     {{"chain", S("add(x0, x1)")}},
     "fused_elementwise: dtypes differ: input 1 f16[4], input 0 f32[N, 4]"},
    {"fused_elementwise",
     {"f32[N, 4]", "f32[3]"},
     {{"chain", S("add(x0, x1)")}},
     "fused_elementwise: shapes [N, 4] and [3] do not broadcast (4 vs 3)"},
    {"fused_elementwise",
     {"i32[4]"},
     {{"chain", S("neg(x0)")}},
     "fused_elementwise: input 0 must be a float tensor"},
};

std::string caseName(const Case &c) {
  std::string s = c.op + "(";
  for (size_t i = 0; i < c.inputs.size(); ++i)
    s += (i ? ", " : "") + c.inputs[i];
  for (const auto &kv : c.attrs)
    s += ", " + kv.first + " = " + kv.second.str();
  return s + ")";
}

const OpDef &def(const std::string &op) {
  const OpDef *d = opRegistry().find(op);
  NNG_CHECK(d, "test names an unregistered op: " + op);
  return *d;
}

TEST(OpsTest, TypeParserRoundTrips) {
  for (const char *s : {"f32[N, 784]", "i64[]", "bf16[2, T, 3]"})
    EXPECT_EQ(T(s).str(), s);
}

TEST(OpsTest, ValidCasesInferExactTypes) {
  for (const Case &c : kValid) {
    SCOPED_TRACE(caseName(c));
    AttrMap attrs = c.attrs;
    std::vector<TensorType> in = types(c.inputs);
    try {
      TensorType out = inferType(def(c.op), in, attrs);
      EXPECT_EQ(out.str(), c.expect);
      double flops = def(c.op).flops(OpCall{in, attrs}, out, 4);
      EXPECT_TRUE(std::isfinite(flops) && flops >= 0) << flops;
    } catch (const TypeError &e) {
      ADD_FAILURE() << "unexpected TypeError: " << e.what();
    }
  }
}

TEST(OpsTest, InvalidCasesReportWhatWasExpected) {
  for (const Case &c : kInvalid) {
    SCOPED_TRACE(caseName(c));
    AttrMap attrs = c.attrs;
    try {
      TensorType out = inferType(def(c.op), types(c.inputs), attrs);
      ADD_FAILURE() << "accepted, inferred " << out.str();
    } catch (const TypeError &e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
      EXPECT_EQ(msg.rfind(c.op + ": ", 0), 0u) << "message does not start with the op: " << msg;
    }
  }
}

// The families in core/ops. "backward" holds the generated `<op>_grad` ops and
// sum_to (core/ops/backward.cpp): they are checked for completeness here, their
// rules are tested by their owner's tests, and docs/ops.md does not list them.
const std::set<std::string> kFamilies = {"elementwise", "linalg",    "shape", "reduction",
                                         "loss",        "nn",        "fused", "optimizer",
                                         "amp",         "backward"};
bool isBackward(const OpDef &op) { return op.family == "backward"; }

// Every op is fully described, and every forward op has at least one valid and one
// invalid case above.
TEST(OpsTest, EveryOpIsCompleteAndTested) {
  std::set<std::string> valid, invalid;
  for (const Case &c : kValid)
    valid.insert(c.op);
  for (const Case &c : kInvalid)
    invalid.insert(c.op);
  for (const auto &[name, op] : opRegistry().all()) {
    SCOPED_TRACE(name);
    EXPECT_EQ(op.name, name);
    EXPECT_TRUE(static_cast<bool>(op.infer));
    EXPECT_TRUE(static_cast<bool>(op.flops));
    EXPECT_FALSE(op.doc.empty());
    EXPECT_EQ(kFamilies.count(op.family), 1u) << op.family;
    EXPECT_NE(std::string(fusionKindName(op.fusion)), "?");
    for (const AttrSpec &a : op.attrs)
      EXPECT_FALSE(a.doc.empty()) << a.name;
    if (isBackward(op))
      continue;
    EXPECT_EQ(valid.count(name), 1u) << "no valid test case";
    EXPECT_EQ(invalid.count(name), 1u) << "no invalid test case";
  }
}

// The v1 operator set of LANGUAGE.md (plus cast and constant, which the language's
// casts and literals lower to); none may go missing.
// clang-format off
const char *const kLanguageOps[] = {
    "neg", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "exp", "log", "sqrt", "abs", "add",
    "sub", "mul", "div", "maximum", "minimum", "pow", "cast", "constant", "matmul", "transpose",
    "reshape", "flatten", "concat", "slice", "sum", "mean", "max", "softmax", "log_softmax",
    "cross_entropy", "mse", "bce_with_logits", "conv2d", "max_pool2d", "avg_pool2d",
    "global_avg_pool", "batch_norm", "layer_norm", "dropout", "embedding", "fused_dense",
    "softmax_cross_entropy", "fused_elementwise"};
// clang-format on

TEST(OpsTest, LanguageOpsAreRegistered) {
  for (const char *op : kLanguageOps)
    EXPECT_NE(opRegistry().find(op), nullptr) << op;
}

TEST(OpsTest, FusionKinds) {
  auto kind = [](const char *op) { return def(op).fusion; };
  EXPECT_EQ(kind("relu"), FusionKind::Elementwise);
  EXPECT_EQ(kind("add"), FusionKind::Broadcast);
  for (const char *op : {"reshape", "transpose", "slice", "concat", "flatten", "embedding"})
    EXPECT_EQ(kind(op), FusionKind::Injective) << op;
  for (const char *op : {"sum", "mean", "max", "softmax", "log_softmax", "max_pool2d"})
    EXPECT_EQ(kind(op), FusionKind::Reduction) << op;
  for (const char *op : {"matmul", "conv2d", "fused_dense", "fused_conv2d"})
    EXPECT_EQ(kind(op), FusionKind::MatmulLike) << op;
  for (const char *op : {"cross_entropy", "batch_norm", "dropout", "softmax_cross_entropy"})
    EXPECT_EQ(kind(op), FusionKind::Opaque) << op;
}

TEST(OpsTest, DefaultsAreFilled) {
  AttrMap a = completeAttrs(def("max_pool2d"), {{"kernel", I(2)}});
  EXPECT_EQ(a.at("stride"), I(0));
  EXPECT_EQ(a.at("pad"), I(0));
  a = completeAttrs(def("sum"), {{"axis", I(1)}});
  EXPECT_EQ(a.at("axis"), L({1})); // a single integer becomes a one-element list
  EXPECT_EQ(a.at("keepdims"), B(false));
  a = completeAttrs(def("batch_norm"), {});
  EXPECT_EQ(a.at("eps"), F(1e-5));
  EXPECT_EQ(a.at("momentum"), F(0.1));
  a = completeAttrs(def("transpose"), {});
  EXPECT_EQ(a.at("perm"), L({}));
  EXPECT_EQ(completeAttrs(def("fused_dense"), {}).at("act"), Nm("none"));
  EXPECT_EQ(completeAttrs(def("dropout"), {}).at("p"), F(0.5));
  EXPECT_EQ(completeAttrs(def("softmax"), {}).at("axis"), I(-1));
  EXPECT_EQ(completeAttrs(def("flatten"), {}).at("start_axis"), I(1));
}

double flops(const std::string &op, const std::vector<std::string> &in, AttrMap attrs,
             int64_t batch) {
  std::vector<TensorType> inputs = types(in);
  TensorType out = inferType(def(op), inputs, attrs);
  return def(op).flops(OpCall{inputs, attrs}, out, batch);
}

TEST(OpsTest, FlopCounts) {
  // matmul: 2*M*N*K, the batch bound to N.
  EXPECT_EQ(flops("matmul", {"f32[N, 784]", "f32[784, 512]"}, {}, 32), 2.0 * 32 * 512 * 784);
  EXPECT_EQ(flops("matmul", {"f32[8, 3, 4]", "f32[4, 6]"}, {}, 1), 2.0 * 8 * 3 * 6 * 4);
  // conv2d: 2*N*F*Ho*Wo*C*kh*kw.
  EXPECT_EQ(flops("conv2d", {"f32[N, 3, 32, 32]", "f32[16, 3, 3, 5]"}, {{"pad", I(2)}}, 2),
            2.0 * 2 * 16 * 34 * 32 * 3 * 3 * 5);
  // elementwise: per output element, transcendental ops costing more.
  EXPECT_EQ(flops("relu", {"f32[N, 10]"}, {}, 4), 40);
  EXPECT_EQ(flops("sigmoid", {"f32[N, 10]"}, {}, 4), 160);
  EXPECT_EQ(flops("add", {"f32[N, 1, 4]", "f32[3, 1]"}, {}, 2), 24);
  // reductions: per input element.
  EXPECT_EQ(flops("sum", {"f32[N, 3, 4]"}, {{"axis", I(1)}}, 5), 60);
  EXPECT_EQ(flops("max_pool2d", {"f32[1, 16, 28, 28]"}, {{"kernel", I(2)}}, 1), 4.0 * 16 * 14 * 14);
  EXPECT_EQ(flops("reshape", {"f32[N, 784]"}, {{"shape", L({-1, 28, 28})}}, 8), 0);
  // fused_dense: the matmul, the bias add and the activation's own cost.
  EXPECT_EQ(flops("fused_dense", {"f32[N, 8]", "f32[8, 4]", "f32[4]"}, {{"act", Nm("relu")}}, 2),
            (2.0 * 8 + 1 + 1) * 2 * 4);
  EXPECT_EQ(flops("fused_dense", {"f32[N, 8]", "f32[8, 4]", "f32[4]"}, {}, 2),
            (2.0 * 8 + 1) * 2 * 4);
  // fused_elementwise: the chain's elementwise ops (add 1, sigmoid 4), per element.
  EXPECT_EQ(flops("fused_elementwise", {"f32[N, 4]", "f32[4]"},
                  {{"chain", S("sigmoid(add(x0, x1))")}}, 3),
            5.0 * 12);
}

TEST(OpsTest, BroadcastingWithSymbolicDims) {
  auto bc = [](const std::string &a, const std::string &b) {
    return shapeStr(rules::broadcast("add", T(a).shape, T(b).shape));
  };
  EXPECT_EQ(bc("f32[N, 1]", "f32[1, 5]"), "[N, 5]");
  EXPECT_EQ(bc("f32[N]", "f32[N]"), "[N]");
  EXPECT_EQ(bc("f32[1]", "f32[N]"), "[N]");
  EXPECT_EQ(bc("f32[]", "f32[2, 3]"), "[2, 3]");
  EXPECT_EQ(bc("f32[T, 1, 3]", "f32[N, 1]"), "[T, N, 3]");
  EXPECT_THROW(bc("f32[N]", "f32[M]"), TypeError);
  EXPECT_THROW(bc("f32[N]", "f32[3]"), TypeError);
  EXPECT_THROW(bc("f32[2]", "f32[3]"), TypeError);
  // 2^24 * 2^24 = 2^48 is the limit itself; one more doubling is past it.
  EXPECT_EQ(bc("f32[16777216, 1]", "f32[1, 16777216]"), "[16777216, 16777216]");
  EXPECT_THROW(bc("f32[16777216, 1]", "f32[1, 33554432]"), TypeError);
}

// docs/ops.md has one table row per op: | `name` | inputs | attributes | shape rule |
// fusion kind | doc |, and its inputs, attributes, fusion kind and doc match the registry.
std::vector<std::string> splitRow(const std::string &line) {
  std::vector<std::string> cells;
  std::string cur;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cur += '|';
      ++i;
    } else if (line[i] == '|') {
      cur.erase(0, cur.find_first_not_of(' '));
      cur.erase(cur.find_last_not_of(' ') + 1);
      cells.push_back(cur);
      cur.clear();
    } else {
      cur += line[i];
    }
  }
  return cells;
}

TEST(OpsTest, DocsTableMatchesRegistry) {
  std::ifstream in(std::string(NNG_SOURCE_DIR) + "/docs/ops.md");
  ASSERT_TRUE(in.good()) << "docs/ops.md not found";
  std::map<std::string, std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("| `", 0) == 0) {
      std::vector<std::string> cells = splitRow(line);
      ASSERT_EQ(cells.size(), 6u) << line;
      std::string name = cells[0].substr(1, cells[0].size() - 2);
      EXPECT_EQ(rows.count(name), 0u) << "two rows for " << name;
      rows[name] = cells;
    }
  for (const auto &[name, op] : opRegistry().all()) {
    if (isBackward(op))
      continue;
    SCOPED_TRACE(name);
    ASSERT_EQ(rows.count(name), 1u) << "no row in docs/ops.md";
    const std::vector<std::string> &row = rows[name];
    std::string inputs;
    for (size_t i = 0; i < op.inputs.size(); ++i)
      inputs += (i ? ", " : "") + op.inputs[i];
    if (op.variadic)
      inputs += ", ...";
    EXPECT_EQ(row[1], inputs.empty() ? "-" : inputs);
    for (const AttrSpec &a : op.attrs) {
      std::string want = a.defaultValue ? "`" + a.name + " = " + a.defaultValue->str() + "`"
                                        : "`" + a.name + "` (required)";
      EXPECT_NE(row[2].find(want), std::string::npos) << want << " in " << row[2];
    }
    if (op.attrs.empty()) {
      EXPECT_EQ(row[2], "-");
    }
    EXPECT_EQ(row[4], fusionKindName(op.fusion));
    EXPECT_EQ(row[5], op.doc);
    rows.erase(name);
  }
  for (const auto &kv : rows)
    ADD_FAILURE() << "docs/ops.md documents an unregistered op: " << kv.first;
}

} // namespace
} // namespace nng
