// The runtime's view of a device. The CPU backend (core/cpu) and the CUDA backend
// (cuda/) implement it; the executor and the trainer only talk to this interface,
// so a graph runs unchanged on either.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/ir/graph.h"

namespace nng {

// A concrete tensor on some backend: a non-owning view of `bytes` at `data`.
struct Tensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  void *data = nullptr;

  int64_t elements() const;
  size_t bytes() const { return static_cast<size_t>(elements()) * dtypeSize(dtype); }
  template <typename T> T *as() const { return static_cast<T *>(data); }
};

// Everything a kernel may need beyond its tensors.
struct KernelContext {
  bool training = true; // dropout active, batch_norm uses batch statistics
  uint64_t seed = 0;    // with `step`, makes dropout masks reproducible
  uint64_t step = 0;
};

class Backend {
public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // Bytes one element of `t` occupies here. A backend without native half
  // precision (the CPU) stores f16/bf16 as f32 rounded to the narrower type.
  virtual size_t storageBytes(DType t) const { return dtypeSize(t); }

  virtual void *allocate(size_t bytes) = 0;
  virtual void release(void *ptr) = 0;
  virtual void copyIn(void *dst, const void *hostSrc, size_t bytes) = 0;
  virtual void copyOut(void *hostDst, const void *src, size_t bytes) = 0;
  virtual void fillZero(void *dst, size_t bytes) = 0;

  // Runs one node's kernel; `inputs` and `output` live on this backend. Throws
  // UserError for data-dependent user errors (a label out of range).
  virtual void run(const Node &node, const std::vector<Tensor> &inputs, Tensor &output,
                   const KernelContext &ctx) = 0;

  // Gradient arithmetic for clipping and accumulation, run where the tensors live.
  virtual double sumSquares(const Tensor &t) = 0; // deterministic
  virtual void scale(Tensor &t, double factor) = 0;
  virtual void accumulate(Tensor &acc, const Tensor &t) = 0; // acc += t

  virtual void synchronize() {}
};

// Creates a backend by name ("cpu", later "cuda", "cuda:1"); throws UserError for an
// unknown or unavailable one. Backends register themselves explicitly from the
// executable (registerBackend), never through static initializers.
using BackendFactory = std::unique_ptr<Backend> (*)(const std::string &spec);
void registerBackend(const std::string &name, BackendFactory factory);
std::unique_ptr<Backend> createBackend(const std::string &spec);
std::vector<std::string> backendNames();
// Whether `spec` ("cpu", "cuda:1") names a registered backend; `why` says why not.
bool backendAvailable(const std::string &spec, std::string &why);

} // namespace nng
