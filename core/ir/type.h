// Tensor types: element dtype plus a shape whose dimensions are integers or
// symbolic names (N, the batch, is bound from the data at run time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nng {

enum class DType { F32, F16, BF16, F64, I32, I64, Bool };

const char *dtypeName(DType t);               // "f32", ...
std::optional<DType> parseDType(const std::string &name);
size_t dtypeSize(DType t);                    // bytes per element
bool isFloat(DType t);
bool isInteger(DType t);                      // i32, i64 (bool is neither)

// One dimension: a known extent, or a symbol such as "N".
struct Dim {
  int64_t value = 0;  // meaningful when symbol is empty
  std::string symbol; // non-empty for a symbolic dimension

  Dim() = default;
  Dim(int64_t v) : value(v) {} // NOLINT: dims read naturally as integers
  static Dim sym(std::string s) {
    Dim d;
    d.symbol = std::move(s);
    return d;
  }
  bool isSymbolic() const { return !symbol.empty(); }
  bool isKnown() const { return symbol.empty(); }
  bool operator==(const Dim &o) const { return symbol == o.symbol && value == o.value; }
  bool operator!=(const Dim &o) const { return !(*this == o); }
  std::string str() const;
};

using Shape = std::vector<Dim>;

// The largest element count a tensor may have; shape arithmetic past it is an error.
constexpr int64_t kMaxElements = int64_t(1) << 48;

struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  size_t rank() const { return shape.size(); }
  bool operator==(const TensorType &o) const { return dtype == o.dtype && shape == o.shape; }
  bool operator!=(const TensorType &o) const { return !(*this == o); }
  std::string str() const; // "f32[N, 784]", "f32[]"
  // Product of the known dims (symbols count as 1); nullopt on overflow past kMaxElements.
  std::optional<int64_t> knownElements() const;
  // Element count with every symbol bound to `symbolValue` (e.g. the batch size).
  std::optional<int64_t> elementsWith(int64_t symbolValue) const;
};

std::string shapeStr(const Shape &s); // "[N, 784]"

// Multiplies with overflow checking; nullopt past kMaxElements.
std::optional<int64_t> checkedMul(int64_t a, int64_t b);

} // namespace nng
