// safetensors reading and writing, and the atomic-write protocol.
#include "core/train/safetensors.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/data/atomic_file.h"
#include "core/diag/diagnostic.h"

namespace nng {

namespace {

const char *safetensorsDType(DType t) {
  switch (t) {
  case DType::F32: return "F32";
  case DType::F16: return "F16";
  case DType::BF16: return "BF16";
  case DType::F64: return "F64";
  case DType::I32: return "I32";
  case DType::I64: return "I64";
  case DType::Bool: return "BOOL";
  }
  return "?";
}

bool parseSafetensorsDType(const std::string &s, DType &out) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I32, DType::I64,
                  DType::Bool})
    if (s == safetensorsDType(t)) {
      out = t;
      return true;
    }
  return false;
}

[[noreturn]] void fail(const std::string &path, const std::string &what) {
  throw UserError(path + ": " + what);
}


} // namespace

void writeSafetensors(const std::string &path, const TensorFile &tensors,
                      const std::map<std::string, std::string> &metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto &[name, t] : tensors) {
    header[name] = {{"dtype", safetensorsDType(t.dtype)},
                    {"shape", t.shape},
                    {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  // Pad the header with spaces to 8 bytes so the data is aligned, as the reference
  // writer does.
  while (text.size() % 8)
    text += ' ';
  std::string out;
  out.reserve(8 + text.size() + offset);
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((n >> (8 * i)) & 0xff);
  out += text;
  for (const auto &kv : tensors)
    out.append(reinterpret_cast<const char *>(kv.second.bytes.data()), kv.second.bytes.size());
  writeFileAtomically(path, out);
}

TensorFile readSafetensors(const std::string &path, std::map<std::string, std::string> *metadata) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(path, std::string("cannot read: ") + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  if (data.size() < 8)
    fail(path, "not a safetensors file (shorter than its 8-byte header length)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(data[i])) << (8 * i);
  if (n > data.size() - 8)
    fail(path, "not a safetensors file (header length " + std::to_string(n) +
                   " exceeds the file size)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(data.substr(8, n));
  } catch (const nlohmann::json::exception &e) {
    fail(path, std::string("bad safetensors header: ") + e.what());
  }
  if (!header.is_object())
    fail(path, "bad safetensors header: not a JSON object");
  const size_t base = 8 + n;
  TensorFile out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (metadata && it->is_object())
        for (auto m = it->begin(); m != it->end(); ++m)
          if (m->is_string())
            (*metadata)[m.key()] = m->get<std::string>();
      continue;
    }
    const auto &e = *it;
    NamedTensor t;
    try {
      if (!parseSafetensorsDType(e.at("dtype").get<std::string>(), t.dtype))
        fail(path, "tensor '" + it.key() + "': unsupported dtype " + e.at("dtype").dump());
      t.shape = e.at("shape").get<std::vector<int64_t>>();
      auto offs = e.at("data_offsets").get<std::vector<uint64_t>>();
      if (offs.size() != 2 || offs[0] > offs[1] || offs[1] > data.size() - base)
        fail(path, "tensor '" + it.key() + "': data offsets out of range (truncated file?)");
      int64_t elems = 1;
      for (int64_t d : t.shape) {
        if (d < 0 || (d && elems > kMaxElements / d))
          fail(path, "tensor '" + it.key() + "': bad shape");
        elems *= d;
      }
      if (offs[1] - offs[0] != static_cast<uint64_t>(elems) * dtypeSize(t.dtype))
        fail(path, "tensor '" + it.key() + "': byte size does not match its shape");
      t.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(base + offs[0]),
                     data.begin() + static_cast<std::ptrdiff_t>(base + offs[1]));
    } catch (const nlohmann::json::exception &ex) {
      fail(path, "tensor '" + it.key() + "': bad entry: " + ex.what());
    }
    out[it.key()] = std::move(t);
  }
  return out;
}

} // namespace nng
