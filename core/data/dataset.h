// Datasets: named fields of equal sample count, loaded from a config source, split
// for validation, and checked against a model's input declarations.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/data/array.h"
#include "core/data/config.h"
#include "core/ir/type.h"

namespace nng {

class Dataset {
public:
  Dataset() = default;
  // `name` ("data.train") and `loc` (its place in the config) locate messages.
  explicit Dataset(std::string name, SourceLoc loc = {})
      : name_(std::move(name)), loc_(std::move(loc)) {}

  // Adds a field. UserError when it has no sample dimension or its sample count differs
  // from the fields already present; a repeated name is an internal error.
  void add(const std::string &field, HostArray a);

  int64_t size() const; // samples (dim 0 of every field); 0 without fields
  bool has(const std::string &field) const { return fields_.count(field) != 0; }
  const HostArray &field(const std::string &name) const;
  std::vector<std::string> fieldNames() const; // sorted
  const std::map<std::string, HostArray> &fields() const { return fields_; }
  const std::string &name() const { return name_; }
  const SourceLoc &loc() const { return loc_; }

  // A new dataset of the given rows, in the given order.
  Dataset select(const std::vector<int64_t> &rows, const std::string &name) const;

private:
  std::string name_;
  SourceLoc loc_;
  std::map<std::string, HostArray> fields_;
};

// Rows idx[0..n) of `a`, gathered into an array of shape [n, ...].
HostArray gatherRows(const HostArray &a, const int64_t *idx, size_t n);

// Reads a source's files (or generates it), applies `limit` and the transforms.
Dataset loadSource(const DataSource &src);

// Splits `all` into (train, validation) with round(fraction * size) validation samples.
// shuffle = false: validation is the last samples, in order. shuffle = true: a random
// subset chosen with `seed` (its own stream, independent of the epoch orders); both
// parts keep the file order of their samples. UserError if either part is empty.
std::pair<Dataset, Dataset> splitValidation(const Dataset &all, double fraction, bool shuffle,
                                            uint64_t seed);

struct LoadedData {
  Dataset train;
  std::optional<Dataset> validation;
  std::optional<Dataset> test;
};

// Loads train, validation (split or source) and test as the config says. Validation and
// test must have the same fields as train, with the same dtype and per-sample shape.
LoadedData loadData(const TrainConfig &cfg);

// A model input as declared in the .nn file: `x: f32[N, 784]`.
struct InputDecl {
  std::string name;
  TensorType type;
};

// Checks that every input has a data field of the same name, dtype and per-sample shape.
// Dim 0 of an input is the batch: a symbol (N) matches anything, a number must equal
// `batchSize` (when > 0). Other symbolic dims bind to the data's extents and must
// bind the same way in every input. Returns one message per problem, empty when all is
// well; data fields no input uses are fine.
std::vector<std::string> checkInputs(const Dataset &data, const std::vector<InputDecl> &inputs,
                                     int64_t batchSize = 0);

} // namespace nng
