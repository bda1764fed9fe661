// Data file readers (IDX, CSV, NPY) and the synthetic generators. Each returns raw
// arrays in the file's element type; applyTransform (array.h) makes them HostArrays.
// Every error is a UserError whose location names the file (and line/column for CSV).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/data/array.h"

namespace nng {

// The whole file, gunzipped when it starts with the gzip magic (1f 8b) and
// `allowGzip`. UserError on a missing, unreadable or corrupt file.
std::vector<uint8_t> readFileBytes(const std::string &path, bool allowGzip);

// IDX (the MNIST format): magic 00 00 <type> <rank>, rank big-endian u32 dims, then
// big-endian data. Gzip is detected from the first bytes, not the file name.
RawArray readIdx(const std::string &path);

// NPY versions 1, 2 and 3; dtypes f4 f8 i1 i2 i4 i8 u1 b1, little-endian, C order.
RawArray readNpy(const std::string &path);
// Writes `a` as a version 1.0 .npy file (little-endian, C order), atomically.
void writeNpy(const std::string &path, const HostArray &a);

// Columns of a CSV file that make one field. `label: 4` gives a field of shape [N]
// (single); `x: [0, 1, 2, 3]` gives [N, 4].
struct CsvColumns {
  std::vector<int64_t> indices; // 0-based
  bool single = false;
  bool operator==(const CsvColumns &o) const { return indices == o.indices && single == o.single; }
};

struct CsvSpec {
  std::string path;
  bool header = false; // skip the first non-empty line
  char delimiter = ',';
  std::map<std::string, CsvColumns> columns; // field name -> columns
  bool operator==(const CsvSpec &o) const {
    return path == o.path && header == o.header && delimiter == o.delimiter && columns == o.columns;
  }
};

// Reads the selected columns. Cells are trimmed and may be double-quoted; empty lines
// are skipped. A field is i64 when every one of its cells is an integer literal, else
// f64. Errors: unreadable cell (file:line:col), ragged row, column out of range, no rows.
std::map<std::string, RawArray> readCsv(const CsvSpec &spec);

enum class SyntheticKind { Blobs, Spirals, Random };

struct SyntheticSpec {
  SyntheticKind kind = SyntheticKind::Blobs;
  int64_t samples = 1000;
  int64_t classes = 3;
  int64_t features = 2; // spirals are always 2-d
  uint64_t seed = 0;
  bool operator==(const SyntheticSpec &o) const {
    return kind == o.kind && samples == o.samples && classes == o.classes &&
           features == o.features && seed == o.seed;
  }
};

// Fields "x" (f32 [samples, features]) and "label" (i64 [samples], 0..classes-1).
// Reproducible for a given spec: the generator is std::mt19937_64 (fully specified by
// the standard) with our own uniform and Box-Muller normal (random.h), because the std
// distributions differ between standard libraries. Only libm's log/cos/sin could differ,
// in the last bit, on another C library.
//   blobs:   class centres uniform in [-5, 5)^features; x = centre + N(0, 1); random labels
//   spirals: class c is arm c of a spiral; radius t, angle 2*pi*c/classes + 3*pi*t,
//            t uniform in [0, 1), plus N(0, 0.1) on each coordinate
//   random:  x ~ N(0, 1), labels uniform; nothing to learn (a throughput check)
std::map<std::string, RawArray> generateSynthetic(const SyntheticSpec &spec);

} // namespace nng
