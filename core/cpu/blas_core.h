// Which OpenBLAS kernel set this machine deserves. OpenBLAS picks its kernels from
// the CPU model when it loads; on virtual machines that report a generic model
// ("Intel Xeon Processor") it falls back to Prescott (SSE3) kernels, which run
// sgemm about 4.5x slower than the AVX-512 ones the CPU actually supports.
#pragma once

#include <string>

namespace nng {

// The OPENBLAS_CORETYPE value ("SkylakeX", "Haswell") whose kernels this CPU can run
// and which are faster than the ones OpenBLAS loaded; empty when OpenBLAS already
// uses the best kernels this code knows of. OpenBLAS reads the variable only at load
// time, so the caller (the executable) must set it and re-execute itself.
std::string fasterBlasCoreType();

// The kernel set OpenBLAS is using ("Prescott", "SkylakeX").
std::string blasCoreName();

} // namespace nng
