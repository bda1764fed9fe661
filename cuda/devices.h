// CUDA device discovery, usable from CPU-only code: without CUDA it reports none.
#pragma once

#include <string>
#include <vector>

namespace nng::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0; // compute capability
  size_t memoryBytes = 0;
  int multiprocessors = 0;
};

// Lists the usable CUDA devices. `why` explains an empty list (no driver, no device,
// or a build without CUDA). Never throws.
std::vector<DeviceInfo> listDevices(std::string &why);

bool builtWithCuda();

} // namespace nng::cuda
