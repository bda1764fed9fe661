// Fused-op CPU kernels (see fused.h): the fused_elementwise block interpreter and the
// one-pass dense backward pieces.
#include "core/cpu/kernels/fused.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "core/cpu/kernels/elementwise.h"
#include "core/cpu/kernels/scalar_math.h"
#include "core/cpu/kernels/strided.h"
#include "core/diag/diagnostic.h"
#include "core/ops/fused.h"

namespace nng::cpu {

namespace {

// Elements evaluated per instruction step: small enough that the stack of blocks
// stays in L1, long enough that each instruction's loop vectorizes.
constexpr int64_t kBlock = 256;

// How an input is read: in place (y's element count), one value, or through
// broadcast strides.
enum class Access { Full, Scalar, Strided };

template <typename T> struct InputView {
  const T *data = nullptr;
  Access access = Access::Full;
  StridedLoop loop; // for Strided: y's shape coalesced, operand 1 the input's strides
};

template <typename T> T applyUnary(ChainOp op, T v, T alpha) {
  switch (op) {
  case ChainOp::Neg:
    return -v;
  case ChainOp::Relu:
    return v > T(0) ? v : T(0);
  case ChainOp::LeakyRelu:
    return v > T(0) ? v : alpha * v;
  case ChainOp::Sigmoid:
    return sigmoidOf(v);
  case ChainOp::Tanh:
    return std::tanh(v);
  case ChainOp::Gelu:
    return geluOf(v);
  case ChainOp::Exp:
    return std::exp(v);
  case ChainOp::Log:
    return std::log(v);
  case ChainOp::Sqrt:
    return std::sqrt(v);
  case ChainOp::Abs:
    return std::abs(v);
  default:
    return v;
  }
}

// One unary instruction over a block; the switch is outside the loops so each loop
// is a plain map the compiler vectorizes where it can.
template <typename T> void unaryBlock(ChainOp op, T *d, const T *s, int64_t n, T alpha) {
  switch (op) {
  case ChainOp::Neg:
    for (int64_t j = 0; j < n; ++j)
      d[j] = -s[j];
    return;
  case ChainOp::Relu:
    for (int64_t j = 0; j < n; ++j)
      d[j] = s[j] > T(0) ? s[j] : T(0);
    return;
  case ChainOp::Exp:
    for (int64_t j = 0; j < n; ++j)
      d[j] = std::exp(s[j]);
    return;
  default:
    for (int64_t j = 0; j < n; ++j)
      d[j] = applyUnary(op, s[j], alpha);
    return;
  }
}

template <typename T> void binaryBlock(ChainOp op, T *d, const T *a, const T *b, int64_t n) {
  switch (op) {
  case ChainOp::Add:
    for (int64_t j = 0; j < n; ++j)
      d[j] = a[j] + b[j];
    return;
  case ChainOp::Sub:
    for (int64_t j = 0; j < n; ++j)
      d[j] = a[j] - b[j];
    return;
  case ChainOp::Mul:
    for (int64_t j = 0; j < n; ++j)
      d[j] = a[j] * b[j];
    return;
  case ChainOp::Div:
    for (int64_t j = 0; j < n; ++j)
      d[j] = a[j] / b[j];
    return;
  // NaN propagates as in maximum_fwd / minimum_fwd.
  case ChainOp::Maximum:
    for (int64_t j = 0; j < n; ++j)
      d[j] = (a[j] != a[j] || a[j] > b[j]) ? a[j] : b[j];
    return;
  case ChainOp::Minimum:
    for (int64_t j = 0; j < n; ++j)
      d[j] = (a[j] != a[j] || a[j] < b[j]) ? a[j] : b[j];
    return;
  case ChainOp::Pow:
    for (int64_t j = 0; j < n; ++j)
      d[j] = std::pow(a[j], b[j]);
    return;
  default:
    NNG_CHECK(false, "fused_elementwise: not a binary instruction");
  }
}

bool isBinary(ChainOp op) { return op >= ChainOp::Add; }

// Reads `count` elements of a strided input starting at output element `begin`: one
// run per stretch of the (coalesced) innermost dim, a fill where the input is broadcast
// along it, a copy where it is contiguous.
template <typename T> void gather(T *dst, const InputView<T> &in, int64_t begin, int64_t count) {
  const StridedLoop &l = in.loop;
  const int last = l.rank - 1;
  const int64_t inner = l.shape[last], step = l.stride[1][last];
  for (int64_t done = 0; done < count;) {
    int64_t rest = begin + done;
    const int64_t col = rest % inner;
    rest /= inner;
    int64_t off = col * step;
    for (int d = last - 1; d >= 0; --d) {
      off += rest % l.shape[d] * l.stride[1][d];
      rest /= l.shape[d];
    }
    const int64_t run = std::min(count - done, inner - col);
    T *o = dst + done;
    const T *src = in.data + off;
    if (step == 0)
      std::fill(o, o + run, *src);
    else if (step == 1)
      std::memcpy(o, src, static_cast<size_t>(run) * sizeof(T));
    else
      for (int64_t j = 0; j < run; ++j)
        o[j] = src[j * step];
    done += run;
  }
}

ChainOp chainOpOf(const std::string &op) {
  static const std::map<std::string, ChainOp> ops = {
      {"neg", ChainOp::Neg},         {"relu", ChainOp::Relu}, {"leaky_relu", ChainOp::LeakyRelu},
      {"sigmoid", ChainOp::Sigmoid}, {"tanh", ChainOp::Tanh}, {"gelu", ChainOp::Gelu},
      {"exp", ChainOp::Exp},         {"log", ChainOp::Log},   {"sqrt", ChainOp::Sqrt},
      {"abs", ChainOp::Abs},         {"add", ChainOp::Add},   {"sub", ChainOp::Sub},
      {"mul", ChainOp::Mul},         {"div", ChainOp::Div},   {"maximum", ChainOp::Maximum},
      {"minimum", ChainOp::Minimum}, {"pow", ChainOp::Pow}};
  auto it = ops.find(op);
  NNG_CHECK(it != ops.end(), "fused_elementwise: no instruction for chain function " + op);
  return it->second;
}

// Postfix order: operands first, left to right; `sp` tracks the stack height.
void emit(const ChainExpr &e, ChainProgram &p, int &sp) {
  ChainInstr ins;
  switch (e.kind) {
  case ChainExpr::Kind::Input:
    ins.op = ChainOp::Input;
    ins.arg = e.input;
    ++sp;
    break;
  case ChainExpr::Kind::Literal:
    ins.op = ChainOp::Literal;
    ins.value = e.value;
    ++sp;
    break;
  case ChainExpr::Kind::Op:
    for (const ChainExpr &a : e.args)
      emit(a, p, sp);
    ins.op = chainOpOf(e.op);
    ins.value = e.value;
    sp -= static_cast<int>(e.args.size()) - 1;
    break;
  }
  p.depth = std::max(p.depth, sp);
  p.code.push_back(ins);
}

} // namespace

const ChainProgram &chainProgram(const std::string &chain, size_t numInputs) {
  static std::mutex mu;
  static std::map<std::pair<std::string, size_t>, std::unique_ptr<ChainProgram>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto &slot = cache[{chain, numInputs}];
  if (!slot) {
    auto p = std::make_unique<ChainProgram>();
    int sp = 0;
    emit(parseChain(chain, numInputs), *p, sp);
    slot = std::move(p);
  }
  return *slot;
}

template <typename T>
void fused_elementwise_fwd(T *y, const Dims &yShape, const T *const *xs, const Dims *xShapes,
                           int numInputs, const ChainProgram &program) {
  const int64_t n = yShape.numel();
  NNG_CHECK(!program.code.empty() && program.depth >= 1, "fused_elementwise: empty program");
  std::vector<InputView<T>> inputs(static_cast<size_t>(numInputs));
  for (int k = 0; k < numInputs; ++k) {
    InputView<T> &v = inputs[static_cast<size_t>(k)];
    v.data = xs[k];
    const int64_t count = xShapes[k].numel();
    if (count == n)
      v.access = Access::Full;
    else if (count == 1)
      v.access = Access::Scalar;
    else {
      v.access = Access::Strided;
      int64_t ys[kMaxRank], xstr[kMaxRank];
      contiguousStrides(yShape, ys);
      broadcastStrides(xShapes[k], yShape, xstr);
      v.loop = makeLoop(yShape, {ys, xstr});
    }
  }
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  const int64_t work = n * static_cast<int64_t>(program.code.size());
  const size_t depth = static_cast<size_t>(program.depth);
#pragma omp parallel if (work >= kParallelMin && blocks > 1)
  {
    // Stack slot s holds a block at `top[s]`: its own buffer, or an input read in
    // place (never written through).
    std::unique_ptr<T[]> storage(new T[depth * kBlock]);
    std::vector<const T *> top(depth);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t begin = b * kBlock, count = std::min(kBlock, n - begin);
      size_t sp = 0;
      const size_t last = program.code.size() - 1;
      for (size_t pc = 0; pc <= last; ++pc) {
        const ChainInstr &ins = program.code[pc];
        T *own = storage.get() + (isBinary(ins.op)             ? sp - 2
                                  : ins.op <= ChainOp::Literal ? sp
                                                               : sp - 1) *
                                     kBlock;
        // The last instruction writes the output directly.
        T *dst = pc == last ? y + begin : own;
        switch (ins.op) {
        case ChainOp::Input: {
          const InputView<T> &in = inputs[static_cast<size_t>(ins.arg)];
          if (in.access == Access::Full && pc != last) {
            top[sp++] = in.data + begin;
            continue;
          }
          if (in.access == Access::Full)
            std::memcpy(dst, in.data + begin, static_cast<size_t>(count) * sizeof(T));
          else if (in.access == Access::Scalar)
            std::fill(dst, dst + count, in.data[0]);
          else
            gather(dst, in, begin, count);
          top[sp++] = dst;
          break;
        }
        case ChainOp::Literal:
          std::fill(dst, dst + count, static_cast<T>(ins.value));
          top[sp++] = dst;
          break;
        default:
          if (isBinary(ins.op)) {
            binaryBlock(ins.op, dst, top[sp - 2], top[sp - 1], count);
            --sp;
          } else {
            unaryBlock(ins.op, dst, top[sp - 1], count, static_cast<T>(ins.value));
          }
          top[sp - 1] = dst;
          break;
        }
      }
    }
  }
}

namespace {

// Rows summed in T per group before one double add: the conversions and double adds
// happen once per group, the per-row work is one vectorized loop. Fixed grouping, so
// still deterministic.
constexpr int64_t kRowGroup = 8;

// acc[j] += sum over `rows` rows (stride n) of dy * act'(y), for w <= 128 columns.
template <typename T>
void accumulateRows(double *acc, const T *g, const T *v, int64_t rows, int64_t n, int64_t w,
                    Activation act) {
  T t[128] = {};
  for (int64_t r = 0; r < rows; ++r, g += n, v += n) {
    switch (act) {
    case Activation::Relu:
      for (int64_t j = 0; j < w; ++j) {
        const T gj = g[j]; // loaded unconditionally, so the select vectorizes
        t[j] += v[j] > T(0) ? gj : T(0);
      }
      break;
    case Activation::Sigmoid:
      for (int64_t j = 0; j < w; ++j)
        t[j] += g[j] * v[j] * (T(1) - v[j]);
      break;
    case Activation::Tanh:
      for (int64_t j = 0; j < w; ++j)
        t[j] += g[j] * (T(1) - v[j] * v[j]);
      break;
    default:
      for (int64_t j = 0; j < w; ++j)
        t[j] += g[j];
      break;
    }
  }
  for (int64_t j = 0; j < w; ++j)
    acc[j] += double(t[j]);
}

} // namespace

template <typename T>
void fused_dense_bias_bwd(T *db, const T *dy, const T *y, int64_t m, int64_t n, Activation act) {
  NNG_CHECK(act != Activation::Gelu, "fused_dense_bias_bwd: gelu needs the pre-activation");
  constexpr int64_t kCols = 128;
  const int64_t blocks = (n + kCols - 1) / kCols;
  // One task per column block, rows in order: each db[j] is summed the same way on
  // any number of threads, in groups of kRowGroup rows then in double.
#pragma omp parallel for if (m * n >= kParallelMin && blocks > 1) schedule(static)
  for (int64_t bl = 0; bl < blocks; ++bl) {
    const int64_t c0 = bl * kCols, w = std::min(n, c0 + kCols) - c0;
    double acc[kCols] = {};
    for (int64_t r = 0; r < m; r += kRowGroup)
      accumulateRows(acc, dy + r * n + c0, y + r * n + c0, std::min(kRowGroup, m - r), n, w, act);
    for (int64_t j = 0; j < w; ++j)
      db[c0 + j] = T(acc[j]);
  }
}

template <typename T>
void fused_dense_act_bwd(T *dz, const T *dy, const T *y, int64_t m, int64_t n, Activation act) {
  NNG_CHECK(act != Activation::Gelu, "fused_dense_act_bwd: gelu needs the pre-activation");
  const int64_t total = m * n;
  // The unfused kernels themselves (relu's reads y in place of x: y > 0 exactly where
  // x > 0), so the fused gradient is the unfused one bit for bit.
  switch (act) {
  case Activation::Relu:
    return relu_bwd<T>(dz, dy, y, total);
  case Activation::Sigmoid:
    return sigmoid_bwd<T>(dz, dy, y, total);
  case Activation::Tanh:
    return tanh_bwd<T>(dz, dy, y, total);
  default:
    std::memcpy(dz, dy, static_cast<size_t>(total) * sizeof(T));
  }
}

template <typename T> T *reusableWorkspace(int64_t count) {
  // 64-byte aligned like the executor's buffers: GEMM packing reads whole cache lines.
  struct Free {
    void operator()(T *p) const { std::free(p); }
  };
  thread_local std::unique_ptr<T, Free> buffer;
  thread_local int64_t capacity = 0;
  if (count > capacity) {
    const size_t bytes = (static_cast<size_t>(count) * sizeof(T) + 63) / 64 * 64;
    buffer.reset(static_cast<T *>(std::aligned_alloc(64, bytes)));
    NNG_CHECK(buffer != nullptr,
              "out of host memory for a " + std::to_string(bytes) + "-byte workspace");
    capacity = count;
  }
  return buffer.get();
}

#define NNG_INSTANTIATE(T)                                                                         \
  template void fused_elementwise_fwd<T>(T *, const Dims &, const T *const *, const Dims *, int,   \
                                         const ChainProgram &);                                    \
  template void fused_dense_bias_bwd<T>(T *, const T *, const T *, int64_t, int64_t, Activation);  \
  template void fused_dense_act_bwd<T>(T *, const T *, const T *, int64_t, int64_t, Activation);   \
  template T *reusableWorkspace<T>(int64_t);

NNG_INSTANTIATE(float)
NNG_INSTANTIATE(double)

} // namespace nng::cpu
