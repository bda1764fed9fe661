// Host-side arrays for training data. A RawArray is what a data file holds, in the
// file's own element type (IDX and NPY carry uint8, int16, ...); a HostArray is what
// the runtime consumes, in one of the IR's dtypes. applyTransform turns the first into
// the second (cast, scale, shift, flatten) and checks every float for NaN/Inf.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/diag/diagnostic.h"
#include "core/ir/type.h"

namespace nng {

// Throws a UserError at a data file (line/col 0 when the file has no text positions)
// or at a place in the config. Out of line: it keeps GCC's -Wmaybe-uninitialized quiet
// about Diagnostic temporaries in the many throw sites.
[[noreturn]] void throwAt(const std::string &file, int line, int col, const std::string &message);
[[noreturn]] void throwAt(const SourceLoc &loc, const std::string &message);

// Element types found in data files. Wider than DType because files store bytes and
// shorts that the runtime never computes with.
enum class FileType { U8, I8, I16, I32, I64, F32, F64, Bool };

const char *fileTypeName(FileType t); // "u8", "i16", "f32", "bool", ...
size_t fileTypeSize(FileType t);
bool isFloatFile(FileType t);

// Element count of a shape; UserError naming `what` when it passes kMaxElements or a
// dimension is negative.
int64_t shapeElements(const std::vector<int64_t> &shape, const std::string &what);
std::string dimsStr(const std::vector<int64_t> &shape); // "[60000, 28, 28]"

// A data file's contents: little-endian, C order, `bytes.size() == numel * size`.
struct RawArray {
  FileType type = FileType::U8;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  std::string file; // where it came from, named in error messages

  int64_t numel() const;
  // Element i converted to double (exact for every type but i64 past 2^53).
  double at(int64_t i) const;
  std::string str() const; // "u8[60000, 28, 28]"
};

// Keeps the first `rows` samples (dim 0) of a raw array; no-op when it has fewer.
void truncateRows(RawArray &a, int64_t rows);
// UserError naming the file and the element index at the first NaN or Inf.
void checkFinite(const RawArray &a);

template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::F64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::I32; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::I64; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::Bool; };

// A dense C-order tensor in host memory. Dimension 0 is the sample dimension when the
// array is a dataset field or a batch.
struct HostArray {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  HostArray() = default;
  HostArray(DType dtype, std::vector<int64_t> shape); // zero-filled

  int64_t numel() const;
  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  size_t rowBytes() const; // bytes of one sample (all dims but the first)

  template <class T> T *data() {
    NNG_CHECK(DTypeOf<T>::value == dtype, "HostArray::data: wrong element type");
    return reinterpret_cast<T *>(bytes.data());
  }
  template <class T> const T *data() const {
    NNG_CHECK(DTypeOf<T>::value == dtype, "HostArray::data: wrong element type");
    return reinterpret_cast<const T *>(bytes.data());
  }
  // Element i as double, whatever the dtype (f16/bf16 are never produced by the readers).
  double at(int64_t i) const;

  TensorType type() const; // every dim known
  std::string str() const; // "f32[60000, 784]"
  bool operator==(const HostArray &o) const {
    return dtype == o.dtype && shape == o.shape && bytes == o.bytes;
  }
  bool operator!=(const HostArray &o) const { return !(*this == o); }
};

// Per-field preparation given in the config (`transform: { x: {scale: ..., ...} }`).
// DType choice when `dtype` is unset ("auto"): float data becomes f32; integer and bool
// data become i64 (labels), or f32 when a scale or shift is given (pixels).
struct FieldTransform {
  double scale = 1.0;
  double shift = 0.0;   // added after scaling: x * scale + shift
  bool flatten = false; // keep dim 0, fold the rest into one
  std::optional<DType> dtype;

  bool rescales() const { return scale != 1.0 || shift != 0.0; }
  bool operator==(const FieldTransform &o) const {
    return scale == o.scale && shift == o.shift && flatten == o.flatten && dtype == o.dtype;
  }
};

// The dtype a field of file type `t` gets under transform `tf`.
DType resolveDType(FileType t, const FieldTransform &tf);
// Converts, scales and flattens. UserError (naming raw.file) on NaN/Inf in the result,
// on float data cast to an integer dtype when an element is not integral, on a scale or
// shift with an integer dtype, and on a field with no sample dimension.
HostArray applyTransform(const RawArray &raw, const FieldTransform &tf);

} // namespace nng
