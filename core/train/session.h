// A model ready to run: its graph (forward, or forward + backward), a backend, an
// executor, and the parameter values. Training, evaluation, prediction and
// `nng run` all go through a Session.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/data/array.h"
#include "core/ir/graph.h"
#include "core/runtime/executor.h"
#include "core/train/safetensors.h"

namespace nng {

// "auto" picks the CUDA backend when one is registered and a device exists, else cpu.
std::string resolveDevice(const std::string &device);

// What Session::initializeParams gives the f32 param or buffer `v` for `seed`: the
// trainer writes it for params the passes removed (they never trained).
NamedTensor initialTensor(const Value &v, uint64_t seed);

class Session {
public:
  Session(Graph graph, const std::string &device, const ExecutorOptions &options = {});

  const Graph &graph() const { return graph_; }
  Executor &exec() { return *exec_; }
  Backend &backend() { return *backend_; }
  const std::string &device() const { return device_; }

  // Fills every param and buffer from its initializer, each from its own random
  // stream seeded by `seed` and its name: the same seed gives the same weights, and a
  // pass that removes or reorders params (prune) leaves the others' values alone.
  void initializeParams(uint64_t seed);
  // Params and buffers by name.
  TensorFile weights() const;
  // Loads params and buffers by name from `w` (other tensors, such as optimizer
  // state, are ignored). A missing tensor or a shape/dtype mismatch is a UserError
  // naming `file`.
  void loadWeights(const TensorFile &w, const std::string &file);

  // Binds symbolic dims from the fields' shapes and writes each model input from the
  // field of the same name (converting dtypes where they differ). A missing field is
  // a UserError.
  void feed(const std::map<std::string, HostArray> &fields);
  HostArray fetch(ValueId v) const;

private:
  Graph graph_;
  std::string device_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Executor> exec_;
};

} // namespace nng
