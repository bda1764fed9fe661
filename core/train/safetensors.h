// The safetensors format (8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the raw data), readable
// by the usual safetensors readers. Files are written atomically (atomic_file.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/ir/type.h"

namespace nng {

struct NamedTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes; // little-endian, row-major
};

using TensorFile = std::map<std::string, NamedTensor>;

// Writes `tensors` (and string metadata under "__metadata__") to `path` atomically:
// a temporary file beside it is written, fsynced, renamed over `path`, and the
// directory fsynced, so a crash leaves either the old file or the new one.
void writeSafetensors(const std::string &path, const TensorFile &tensors,
                      const std::map<std::string, std::string> &metadata = {});

// Reads a safetensors file; throws UserError naming the file on any malformation.
TensorFile readSafetensors(const std::string &path,
                           std::map<std::string, std::string> *metadata = nullptr);

} // namespace nng
