// The NumPy .npy reader. Layout: "\x93NUMPY", major, minor, a header length (u16 in
// version 1, u32 in versions 2 and 3), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }
// padded with spaces to a 16/64-byte boundary, then the raw data.
#include <cctype>

#include "core/data/readers.h"
#include "core/data/atomic_file.h"

namespace nng {

[[noreturn]] static void npyError(const std::string &path, const std::string &msg) {
  throwAt(path, 0, 0, msg);
}

namespace {

// The value of one header entry: a string, a bool, or a tuple of integers.
struct PyValue {
  enum Kind { Str, Bool, Tuple } kind = Str;
  std::string str;
  bool flag = false;
  std::vector<int64_t> ints;
};

// Parses exactly the dict literals numpy writes; anything else is an error.
class HeaderParser {
public:
  HeaderParser(const std::string &text, const std::string &path) : s_(text), path_(path) {}

  std::map<std::string, PyValue> parse() {
    std::map<std::string, PyValue> out;
    expect('{');
    while (peek() != '}') {
      std::string key = quoted();
      expect(':');
      out[key] = value();
      if (peek() == ',')
        ++i_;
      else if (peek() != '}')
        fail("expected ',' or '}'");
    }
    ++i_;
    return out;
  }

private:
  char peek() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_])))
      ++i_;
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  void expect(char c) {
    if (peek() != c)
      fail(std::string("expected '") + c + "'");
    ++i_;
  }
  [[noreturn]] void fail(const std::string &what) {
    npyError(path_, "malformed NPY header at offset " + std::to_string(i_) + ": " + what +
                        " in \"" + s_ + "\"");
  }
  std::string quoted() {
    char q = peek();
    if (q != '\'' && q != '"')
      fail("expected a quoted string");
    size_t end = s_.find(q, i_ + 1);
    if (end == std::string::npos)
      fail("unterminated string");
    std::string r = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return r;
  }
  PyValue value() {
    PyValue v;
    char c = peek();
    if (c == '\'' || c == '"') {
      v.str = quoted();
    } else if (s_.compare(i_, 4, "True") == 0 || s_.compare(i_, 5, "False") == 0) {
      v.kind = PyValue::Bool;
      v.flag = s_[i_] == 'T';
      i_ += v.flag ? 4 : 5;
    } else if (c == '(') {
      v.kind = PyValue::Tuple;
      ++i_;
      while (peek() != ')') {
        if (!std::isdigit(static_cast<unsigned char>(peek())))
          fail("expected a dimension");
        int64_t d = 0;
        while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
          if (d > kMaxElements)
            fail("dimension too large");
          d = d * 10 + (s_[i_++] - '0');
        }
        v.ints.push_back(d);
        if (peek() == ',')
          ++i_;
        else if (peek() != ')')
          fail("expected ',' or ')'");
      }
      ++i_;
    } else {
      fail("expected a string, True/False or a shape tuple");
    }
    return v;
  }

  const std::string &s_;
  const std::string &path_;
  size_t i_ = 0;
};

} // namespace

static FileType npyType(const std::string &descr, const std::string &path) {
  std::string d = descr;
  if (d.size() == 3 && d[0] == '>' && d[2] != '1')
    npyError(path, "big-endian data ('" + descr + "') is not supported; save it little-endian");
  if (d.size() == 3 && (d[0] == '<' || d[0] == '|' || d[0] == '=' || d[0] == '>'))
    d = d.substr(1);
  if (d == "f4")
    return FileType::F32;
  if (d == "f8")
    return FileType::F64;
  if (d == "i1")
    return FileType::I8;
  if (d == "i2")
    return FileType::I16;
  if (d == "i4")
    return FileType::I32;
  if (d == "i8")
    return FileType::I64;
  if (d == "u1")
    return FileType::U8;
  if (d == "b1")
    return FileType::Bool;
  npyError(path, "unsupported NPY dtype '" + descr + "' (supported: f4 f8 i1 i2 i4 i8 u1 b1)");
}

RawArray readNpy(const std::string &path) {
  std::vector<uint8_t> b = readFileBytes(path, false);
  static const char kMagic[] = "\x93NUMPY";
  if (b.size() < 10 || std::memcmp(b.data(), kMagic, 6) != 0)
    npyError(path, "not an NPY file (it does not start with \\x93NUMPY)");
  int major = b[6];
  if (major < 1 || major > 3)
    npyError(path, "unsupported NPY version " + std::to_string(major) + "." + std::to_string(b[7]) +
                       " (supported: 1, 2, 3)");
  size_t lenBytes = major == 1 ? 2 : 4;
  size_t headerLen = b[8] | (size_t(b[9]) << 8);
  if (lenBytes == 4) {
    if (b.size() < 12)
      npyError(path, "truncated NPY header");
    headerLen |= (size_t(b[10]) << 16) | (size_t(b[11]) << 24);
  }
  size_t dataStart = 8 + lenBytes + headerLen;
  if (b.size() < dataStart)
    npyError(path, "truncated NPY header: it declares " + std::to_string(headerLen) +
                       " bytes, the file has " + std::to_string(b.size() - 8 - lenBytes));
  std::string header(b.begin() + static_cast<std::ptrdiff_t>(8 + lenBytes),
                     b.begin() + static_cast<std::ptrdiff_t>(dataStart));
  auto dict = HeaderParser(header, path).parse();
  auto get = [&](const char *key, PyValue::Kind kind) -> const PyValue & {
    auto it = dict.find(key);
    if (it == dict.end() || it->second.kind != kind)
      npyError(path, std::string("NPY header lacks a valid '") + key + "' entry: " + header);
    return it->second;
  };
  if (get("fortran_order", PyValue::Bool).flag)
    npyError(path, "Fortran-order arrays are not supported; save with "
                   "np.save(path, np.ascontiguousarray(a))");
  RawArray a;
  a.file = path;
  a.type = npyType(get("descr", PyValue::Str).str, path);
  a.shape = get("shape", PyValue::Tuple).ints;
  auto need = checkedMul(a.numel(), static_cast<int64_t>(fileTypeSize(a.type)));
  if (!need)
    npyError(path, "NPY shape " + dimsStr(a.shape) + " is too large");
  size_t have = b.size() - dataStart;
  if (have != static_cast<size_t>(*need))
    npyError(path, std::string(have < static_cast<size_t>(*need) ? "truncated NPY file"
                                                                 : "NPY file too long") +
                       ": shape " + dimsStr(a.shape) + " of " + fileTypeName(a.type) + " needs " +
                       std::to_string(*need) + " data bytes, found " + std::to_string(have));
  b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(dataStart));
  a.bytes = std::move(b);
  if (a.type == FileType::Bool)
    for (uint8_t &v : a.bytes)
      v = v ? 1 : 0;
  checkFinite(a);
  return a;
}

void writeNpy(const std::string &path, const HostArray &a) {
  const char *descr = nullptr;
  switch (a.dtype) {
  case DType::F32: descr = "<f4"; break;
  case DType::F64: descr = "<f8"; break;
  case DType::I32: descr = "<i4"; break;
  case DType::I64: descr = "<i8"; break;
  case DType::Bool: descr = "|b1"; break;
  default: throw UserError(path + ": cannot write " + dtypeName(a.dtype) + " as .npy");
  }
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i)
    shape += std::to_string(a.shape[i]) + (a.shape.size() == 1 || i + 1 < a.shape.size() ? "," : "");
  shape += ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " +
                       shape + ", }";
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to 64 bytes.
  while ((10 + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(reinterpret_cast<const char *>(a.bytes.data()), a.bytes.size());
  writeFileAtomically(path, out);
}

} // namespace nng
