// Stand-in for builds without a CUDA compiler: there are never devices.
#include "cuda/devices.h"

namespace nng::cuda {

bool builtWithCuda() { return false; }

std::vector<DeviceInfo> listDevices(std::string &why) {
  why = "this nng was built without CUDA";
  return {};
}

} // namespace nng::cuda
