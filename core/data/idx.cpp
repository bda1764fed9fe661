// File bytes (plain or gzip) and the IDX reader, the format of MNIST and Fashion-MNIST:
//   00 00 <type> <rank>  rank x big-endian u32 dims  big-endian data, C order
// type: 08 u8, 09 i8, 0B i16, 0C i32, 0D f32, 0E f64.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <zlib.h>

#include "core/data/readers.h"

namespace nng {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the data readers assume a little-endian host");

[[noreturn]] static void fileError(const std::string &path, const std::string &msg) {
  throwAt(path, 0, 0, msg);
}

static std::vector<uint8_t> readGzip(const std::string &path) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(path.c_str(), "rb"), gzclose);
  if (!gz)
    fileError(path, std::string("cannot open: ") + std::strerror(errno));
  gzbuffer(gz.get(), 1 << 17);
  std::vector<uint8_t> out;
  constexpr unsigned kChunk = 1 << 20;
  for (;;) {
    size_t at = out.size();
    out.resize(at + kChunk);
    int n = gzread(gz.get(), out.data() + at, kChunk);
    int err = Z_OK;
    const char *msg = gzerror(gz.get(), &err);
    if (n < 0 || err != Z_OK) {
      // zlib reports a cut-off stream as "unexpected end of file".
      std::string what = err == Z_ERRNO ? std::strerror(errno) : (msg ? msg : "unknown error");
      fileError(path, "corrupt or truncated gzip data: " + what);
    }
    out.resize(at + static_cast<size_t>(n));
    if (n == 0)
      break;
  }
  return out;
}

std::vector<uint8_t> readFileBytes(const std::string &path, bool allowGzip) {
  std::unique_ptr<FILE, int (*)(FILE *)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f)
    fileError(path, std::string("cannot open: ") + std::strerror(errno));
  uint8_t magic[2] = {0, 0};
  size_t got = std::fread(magic, 1, 2, f.get());
  if (allowGzip && got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
    return readGzip(path);
  std::vector<uint8_t> out(magic, magic + got);
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0)
    out.insert(out.end(), buf, buf + n);
  if (std::ferror(f.get()))
    fileError(path, std::string("cannot read: ") + std::strerror(errno));
  return out;
}

static bool idxType(uint8_t code, FileType &t) {
  switch (code) {
  case 0x08:
    t = FileType::U8;
    return true;
  case 0x09:
    t = FileType::I8;
    return true;
  case 0x0B:
    t = FileType::I16;
    return true;
  case 0x0C:
    t = FileType::I32;
    return true;
  case 0x0D:
    t = FileType::F32;
    return true;
  case 0x0E:
    t = FileType::F64;
    return true;
  default:
    return false;
  }
}

static std::string hexBytes(const std::vector<uint8_t> &b, size_t n) {
  std::string s;
  char tmp[4];
  for (size_t i = 0; i < n && i < b.size(); ++i) {
    std::snprintf(tmp, sizeof tmp, "%02x", b[i]);
    s += (i ? " " : "") + std::string(tmp);
  }
  return s;
}

RawArray readIdx(const std::string &path) {
  std::vector<uint8_t> b = readFileBytes(path, true);
  FileType type;
  if (b.size() < 4 || b[0] != 0 || b[1] != 0 || !idxType(b[2], type) || b[3] == 0)
    fileError(path, "not an IDX file: it starts with bytes '" + hexBytes(b, 4) +
                        "' (expected 00 00, a type code 08/09/0b/0c/0d/0e, and a rank >= 1)");
  size_t rank = b[3];
  size_t headerBytes = 4 + 4 * rank;
  if (b.size() < headerBytes)
    fileError(path, "truncated IDX header: rank " + std::to_string(rank) + " needs " +
                        std::to_string(headerBytes) + " bytes, the file has " +
                        std::to_string(b.size()));
  RawArray a;
  a.type = type;
  a.file = path;
  for (size_t d = 0; d < rank; ++d) {
    const uint8_t *p = b.data() + 4 + 4 * d;
    a.shape.push_back((int64_t(p[0]) << 24) | (int64_t(p[1]) << 16) | (int64_t(p[2]) << 8) |
                      int64_t(p[3]));
  }
  size_t esize = fileTypeSize(type);
  auto need = checkedMul(a.numel(), static_cast<int64_t>(esize));
  if (!need)
    fileError(path, "IDX dims " + dimsStr(a.shape) + " are too large");
  size_t have = b.size() - headerBytes;
  if (have != static_cast<size_t>(*need))
    fileError(path, std::string(have < static_cast<size_t>(*need) ? "truncated IDX file"
                                                                  : "IDX file too long") +
                        ": dims " + dimsStr(a.shape) + " of " + fileTypeName(type) + " need " +
                        std::to_string(*need) + " data bytes, found " + std::to_string(have));
  b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(headerBytes));
  a.bytes = std::move(b);
  // IDX is big-endian; the host (and RawArray) is little-endian.
  if (esize > 1)
    for (size_t i = 0; i < a.bytes.size(); i += esize)
      std::reverse(a.bytes.begin() + static_cast<std::ptrdiff_t>(i),
                   a.bytes.begin() + static_cast<std::ptrdiff_t>(i + esize));
  checkFinite(a);
  return a;
}

} // namespace nng
