// Raw and host arrays: element access, shape helpers, and the field transform
// (cast, scale, shift, flatten, finite check).
#include "core/data/array.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace nng {

void throwAt(const std::string &file, int line, int col, const std::string &message) {
  Diagnostic d;
  d.loc.file = file;
  d.loc.line = line;
  d.loc.col = col;
  d.message = message;
  throw UserError(std::move(d));
}

void throwAt(const SourceLoc &loc, const std::string &message) {
  throwAt(loc.file, loc.line, loc.col, message);
}

const char *fileTypeName(FileType t) {
  switch (t) {
  case FileType::U8:
    return "u8";
  case FileType::I8:
    return "i8";
  case FileType::I16:
    return "i16";
  case FileType::I32:
    return "i32";
  case FileType::I64:
    return "i64";
  case FileType::F32:
    return "f32";
  case FileType::F64:
    return "f64";
  case FileType::Bool:
    return "bool";
  }
  return "?";
}

size_t fileTypeSize(FileType t) {
  switch (t) {
  case FileType::U8:
  case FileType::I8:
  case FileType::Bool:
    return 1;
  case FileType::I16:
    return 2;
  case FileType::I32:
  case FileType::F32:
    return 4;
  case FileType::I64:
  case FileType::F64:
    return 8;
  }
  return 0;
}

bool isFloatFile(FileType t) { return t == FileType::F32 || t == FileType::F64; }

int64_t shapeElements(const std::vector<int64_t> &shape, const std::string &what) {
  int64_t n = 1;
  for (int64_t d : shape) {
    auto m = checkedMul(n, d);
    if (!m)
      throw UserError(what + ": shape " + dimsStr(shape) + " is too large or negative");
    n = *m;
  }
  return n;
}

std::string dimsStr(const std::vector<int64_t> &shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

template <class T> static T load(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

static double elementAt(FileType t, const uint8_t *base, int64_t i) {
  const uint8_t *p = base + i * fileTypeSize(t);
  switch (t) {
  case FileType::U8:
    return *p;
  case FileType::Bool:
    return *p ? 1.0 : 0.0;
  case FileType::I8:
    return load<int8_t>(p);
  case FileType::I16:
    return load<int16_t>(p);
  case FileType::I32:
    return load<int32_t>(p);
  case FileType::I64:
    return static_cast<double>(load<int64_t>(p));
  case FileType::F32:
    return load<float>(p);
  case FileType::F64:
    return load<double>(p);
  }
  return 0;
}

int64_t RawArray::numel() const { return shapeElements(shape, file); }
double RawArray::at(int64_t i) const { return elementAt(type, bytes.data(), i); }
std::string RawArray::str() const { return fileTypeName(type) + dimsStr(shape); }

void truncateRows(RawArray &a, int64_t rows) {
  if (a.shape.empty() || a.shape[0] <= rows)
    return;
  a.shape[0] = rows;
  a.bytes.resize(static_cast<size_t>(a.numel()) * fileTypeSize(a.type));
}

static std::string elementPosition(const std::vector<int64_t> &shape, int64_t i) {
  // "element 1234 (index [1, 16, 2])": the flat index for scripts, the nd index for people.
  std::vector<int64_t> idx(shape.size());
  int64_t rest = i;
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] ? rest % shape[d] : 0;
    rest = shape[d] ? rest / shape[d] : 0;
  }
  return "element " + std::to_string(i) + " (index " + dimsStr(idx) + ")";
}

void checkFinite(const RawArray &a) {
  if (!isFloatFile(a.type))
    return;
  int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) {
    double v = a.at(i);
    if (!std::isfinite(v))
      throwAt(a.file, 0, 0,
              (std::isnan(v) ? "NaN" : "infinite value") + std::string(" at ") +
                  elementPosition(a.shape, i));
  }
}

HostArray::HostArray(DType dt, std::vector<int64_t> s) : dtype(dt), shape(std::move(s)) {
  bytes.assign(static_cast<size_t>(numel()) * dtypeSize(dtype), 0);
}

int64_t HostArray::numel() const { return shapeElements(shape, "array"); }

size_t HostArray::rowBytes() const {
  if (shape.empty())
    return 0;
  std::vector<int64_t> row(shape.begin() + 1, shape.end());
  return static_cast<size_t>(shapeElements(row, "array")) * dtypeSize(dtype);
}

double HostArray::at(int64_t i) const {
  switch (dtype) {
  case DType::F32:
    return data<float>()[i];
  case DType::F64:
    return data<double>()[i];
  case DType::I32:
    return data<int32_t>()[i];
  case DType::I64:
    return static_cast<double>(data<int64_t>()[i]);
  case DType::Bool:
    return data<uint8_t>()[i] ? 1.0 : 0.0;
  case DType::F16:
  case DType::BF16:
    break;
  }
  NNG_CHECK(false, "HostArray::at: f16/bf16 host arrays are not produced by the data readers");
  return 0;
}

TensorType HostArray::type() const {
  TensorType t;
  t.dtype = dtype;
  for (int64_t d : shape)
    t.shape.push_back(Dim(d));
  return t;
}

std::string HostArray::str() const { return std::string(dtypeName(dtype)) + dimsStr(shape); }

DType resolveDType(FileType t, const FieldTransform &tf) {
  if (tf.dtype)
    return *tf.dtype;
  if (isFloatFile(t) || tf.rescales())
    return DType::F32;
  return DType::I64;
}

// Integer sources converted to an integer dtype are copied exactly (no trip through
// double), so i64 labels past 2^53 survive.
static int64_t integerAt(const RawArray &raw, int64_t i) {
  const uint8_t *p = raw.bytes.data() + i * fileTypeSize(raw.type);
  switch (raw.type) {
  case FileType::U8:
    return *p;
  case FileType::Bool:
    return *p ? 1 : 0;
  case FileType::I8:
    return load<int8_t>(p);
  case FileType::I16:
    return load<int16_t>(p);
  case FileType::I32:
    return load<int32_t>(p);
  case FileType::I64:
    return load<int64_t>(p);
  case FileType::F32:
  case FileType::F64:
    break;
  }
  NNG_CHECK(false, "integerAt on float data");
  return 0;
}

template <class T>
static void fillFloat(const RawArray &raw, const FieldTransform &tf, HostArray &out) {
  T *dst = out.data<T>();
  int64_t n = raw.numel();
  for (int64_t i = 0; i < n; ++i) {
    double x = raw.at(i);
    T v = static_cast<T>(x * tf.scale + tf.shift);
    if (!std::isfinite(x))
      throwAt(raw.file, 0, 0,
              (std::isnan(x) ? "NaN" : "infinite value") + std::string(" at ") +
                  elementPosition(raw.shape, i));
    if (!std::isfinite(v))
      throwAt(raw.file, 0, 0,
              "value " + std::to_string(x) + " at " + elementPosition(raw.shape, i) +
                  " overflows " + dtypeName(out.dtype) +
                  (tf.rescales() ? " after scale/shift" : ""));
    dst[i] = v;
  }
}

template <class T> static void fillInteger(const RawArray &raw, HostArray &out) {
  T *dst = out.data<T>();
  int64_t n = raw.numel();
  bool fromFloat = isFloatFile(raw.type);
  for (int64_t i = 0; i < n; ++i) {
    int64_t v;
    if (fromFloat) {
      double d = raw.at(i);
      // A float column of class ids (0.0, 1.0, ...) is fine; 0.5 is a mistake.
      if (!(d == std::floor(d)) || std::fabs(d) > 9.0e15)
        throwAt(raw.file, 0, 0,
                "cannot convert " + std::string(fileTypeName(raw.type)) + " value " +
                    std::to_string(d) + " at " + elementPosition(raw.shape, i) + " to " +
                    dtypeName(out.dtype) + ": not an integer");
      v = static_cast<int64_t>(d);
    } else {
      v = integerAt(raw, i);
    }
    if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
        v > static_cast<int64_t>(std::numeric_limits<T>::max()))
      throwAt(raw.file, 0, 0,
              "value " + std::to_string(v) + " at " + elementPosition(raw.shape, i) +
                  " does not fit in " + dtypeName(out.dtype));
    dst[i] = static_cast<T>(v);
  }
}

HostArray applyTransform(const RawArray &raw, const FieldTransform &tf) {
  if (raw.shape.empty())
    throwAt(raw.file, 0, 0, "the data is a scalar; a field needs a sample dimension");
  DType dt = resolveDType(raw.type, tf);
  if (!isFloat(dt) && tf.rescales())
    throwAt(raw.file, 0, 0, std::string("scale/shift need a float dtype, not ") + dtypeName(dt));
  std::vector<int64_t> shape = raw.shape;
  if (tf.flatten) {
    std::vector<int64_t> rest(shape.begin() + 1, shape.end());
    shape = {shape[0], shapeElements(rest, raw.file)};
  }
  HostArray out(dt, shape);
  switch (dt) {
  case DType::F32:
    fillFloat<float>(raw, tf, out);
    break;
  case DType::F64:
    fillFloat<double>(raw, tf, out);
    break;
  case DType::I32:
    fillInteger<int32_t>(raw, out);
    break;
  case DType::I64:
    fillInteger<int64_t>(raw, out);
    break;
  case DType::F16:
  case DType::BF16:
  case DType::Bool:
    NNG_CHECK(false, "applyTransform: the config only allows f32, f64, i32, i64");
  }
  return out;
}

} // namespace nng
