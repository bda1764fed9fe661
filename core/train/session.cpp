// Session: parameters in, batches in, values out.
#include "core/train/session.h"

#include <cstring>

#include "core/data/random.h"
#include "core/runtime/initializers.h"

namespace nng {

std::string resolveDevice(const std::string &device) {
  if (device != "auto")
    return device;
  for (const std::string &name : backendNames())
    if (name == "cuda")
      return "cuda"; // the CUDA backend registers itself only when a device exists
  return "cpu";
}

Session::Session(Graph graph, const std::string &device, const ExecutorOptions &options)
    : graph_(std::move(graph)), device_(resolveDevice(device)),
      backend_(createBackend(device_)),
      exec_(std::make_unique<Executor>(graph_, *backend_, options)) {}

namespace {

// FNV-1a: a hash of a parameter's name that is the same on every platform and run.
uint64_t nameHash(const std::string &name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name)
    h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// The values `v`'s initializer gives it for `seed`, drawn from the param's own stream.
std::vector<float> initialValues(const Value &v, const std::vector<int64_t> &shape,
                                 uint64_t seed) {
  validateInitializer(v.init, v.loc);
  Rng rng(mixSeed(seed, nameHash(v.name)));
  std::vector<float> host;
  initializeHost(v.init, shape, rng, host);
  return host;
}

} // namespace

NamedTensor initialTensor(const Value &v, uint64_t seed) {
  NNG_CHECK(v.type.dtype == DType::F32, "initialTensor of a non-f32 parameter " + v.name);
  NamedTensor nt;
  for (const Dim &d : v.type.shape) {
    NNG_CHECK(d.isKnown(), "initialTensor: " + v.name + " has a symbolic dimension");
    nt.shape.push_back(d.value);
  }
  std::vector<float> host = initialValues(v, nt.shape, seed);
  nt.bytes.resize(host.size() * sizeof(float));
  std::memcpy(nt.bytes.data(), host.data(), nt.bytes.size());
  return nt;
}

void Session::initializeParams(uint64_t seed) {
  for (ValueId p : graph_.params()) {
    const Value &v = graph_.value(p);
    const Tensor &t = exec_->tensor(p);
    std::vector<float> host = initialValues(v, t.shape, seed);
    if (t.dtype == DType::F32) {
      exec_->write(p, host.data(), host.size() * sizeof(float));
    } else if (t.dtype == DType::F64) { // the optimizer's learning rate and step
      std::vector<double> wide(host.begin(), host.end());
      exec_->write(p, wide.data(), wide.size() * sizeof(double));
    } else {
      throw UserError(Diagnostic{v.loc, "parameter '" + v.name + "' is " +
                                            dtypeName(t.dtype) + "; parameters are f32", {}});
    }
  }
}

TensorFile Session::weights() const {
  TensorFile out;
  for (ValueId p : graph_.params()) {
    const Tensor &t = exec_->tensor(p);
    NamedTensor nt;
    nt.dtype = t.dtype;
    nt.shape = t.shape;
    nt.bytes.resize(t.bytes());
    exec_->read(p, nt.bytes.data());
    out[graph_.value(p).name] = std::move(nt);
  }
  return out;
}

void Session::loadWeights(const TensorFile &w, const std::string &file) {
  for (ValueId p : graph_.params()) {
    const std::string &name = graph_.value(p).name;
    const Tensor &t = exec_->tensor(p);
    auto it = w.find(name);
    if (it == w.end())
      throw UserError(file + ": no tensor '" + name + "' (the model's parameter)");
    if (it->second.dtype != t.dtype || it->second.shape != t.shape) {
      TensorType have{it->second.dtype, {}}, want{t.dtype, {}};
      for (int64_t d : it->second.shape)
        have.shape.push_back(d);
      for (int64_t d : t.shape)
        want.shape.push_back(d);
      throw UserError(file + ": tensor '" + name + "' is " + have.str() + ", the model needs " +
                      want.str());
    }
    exec_->write(p, it->second.bytes.data(), it->second.bytes.size());
  }
}

// Converts `a` to `dtype` elementwise (labels stored as i64 feeding an i32 input...).
static HostArray convert(const HostArray &a, DType dtype) {
  HostArray out(dtype, a.shape);
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) {
    double x = a.at(i);
    switch (dtype) {
    case DType::F32: out.data<float>()[i] = static_cast<float>(x); break;
    case DType::F64: out.data<double>()[i] = x; break;
    case DType::I32: out.data<int32_t>()[i] = static_cast<int32_t>(x); break;
    case DType::I64: out.data<int64_t>()[i] = static_cast<int64_t>(x); break;
    default: throw UserError(std::string("cannot feed data as ") + dtypeName(dtype));
    }
  }
  return out;
}

void Session::feed(const std::map<std::string, HostArray> &fields) {
  std::map<ValueId, std::vector<int64_t>> shapes;
  for (ValueId in : graph_.inputs()) {
    const std::string &name = graph_.value(in).name;
    auto it = fields.find(name);
    if (it == fields.end())
      throw UserError("no data for the model's input '" + name + "'");
    shapes[in] = it->second.shape;
  }
  exec_->bindFromInputs(shapes);
  for (ValueId in : graph_.inputs()) {
    const HostArray &a = fields.at(graph_.value(in).name);
    const DType want = graph_.typeOf(in).dtype;
    if (a.dtype == want) {
      exec_->write(in, a.bytes.data(), a.bytes.size());
    } else {
      HostArray c = convert(a, want);
      exec_->write(in, c.bytes.data(), c.bytes.size());
    }
  }
}

HostArray Session::fetch(ValueId v) const {
  const Tensor &t = exec_->tensor(v);
  HostArray out(t.dtype, t.shape);
  exec_->read(v, out.bytes.data());
  return out;
}

} // namespace nng
