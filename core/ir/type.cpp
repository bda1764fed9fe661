// Dtype names and sizes; shape printing and checked element counts.
#include "core/ir/type.h"

namespace nng {

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F32: return "f32";
  case DType::F16: return "f16";
  case DType::BF16: return "bf16";
  case DType::F64: return "f64";
  case DType::I32: return "i32";
  case DType::I64: return "i64";
  case DType::Bool: return "bool";
  }
  return "?";
}

std::optional<DType> parseDType(const std::string &n) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I32, DType::I64,
                  DType::Bool})
    if (n == dtypeName(t))
      return t;
  return std::nullopt;
}

size_t dtypeSize(DType t) {
  switch (t) {
  case DType::F32: case DType::I32: return 4;
  case DType::F16: case DType::BF16: return 2;
  case DType::F64: case DType::I64: return 8;
  case DType::Bool: return 1;
  }
  return 0;
}

bool isFloat(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::F64;
}
bool isInteger(DType t) { return t == DType::I32 || t == DType::I64; }

std::string Dim::str() const { return isSymbolic() ? symbol : std::to_string(value); }

std::string shapeStr(const Shape &s) {
  // Appends rather than a stream: the printers call this for every value of a graph.
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i)
      out += ", ";
    out += s[i].str();
  }
  return out + "]";
}

std::string TensorType::str() const { return std::string(dtypeName(dtype)) + shapeStr(shape); }

std::optional<int64_t> checkedMul(int64_t a, int64_t b) {
  if (a < 0 || b < 0)
    return std::nullopt;
  if (a != 0 && b > kMaxElements / a)
    return std::nullopt;
  return a * b;
}

std::optional<int64_t> TensorType::knownElements() const { return elementsWith(1); }

std::optional<int64_t> TensorType::elementsWith(int64_t symbolValue) const {
  int64_t n = 1;
  for (const Dim &d : shape) {
    auto m = checkedMul(n, d.isSymbolic() ? symbolValue : d.value);
    if (!m)
      return std::nullopt;
    n = *m;
  }
  return n;
}

} // namespace nng
