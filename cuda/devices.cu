// CUDA device discovery through the runtime API.
#include "cuda/devices.h"

#include <cuda_runtime.h>

namespace nng::cuda {

bool builtWithCuda() { return true; }

std::vector<DeviceInfo> listDevices(std::string &why) {
  std::vector<DeviceInfo> out;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    why = cudaGetErrorString(err);
    cudaGetLastError(); // clear the sticky error so later calls are not poisoned
    return out;
  }
  if (count == 0)
    why = "no CUDA device found";
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess)
      continue;
    out.push_back(DeviceInfo{i, p.name, p.major, p.minor, p.totalGlobalMem, p.multiProcessorCount});
  }
  return out;
}

} // namespace nng::cuda
