# CPU backend kernels: plain functions over raw buffers (GEMM through OpenBLAS, loops
# with OpenMP); the executor that calls them lives in core/runtime.
list(APPEND NNG_CORE_SOURCES
  cpu/kernels/common.cpp
  cpu/kernels/strided.cpp
  cpu/kernels/elementwise.cpp
  cpu/kernels/linalg.cpp
  cpu/kernels/shape_ops.cpp
  cpu/kernels/reduction.cpp
  cpu/kernels/loss.cpp
  cpu/kernels/conv.cpp
  cpu/kernels/norm.cpp
  cpu/kernels/nn.cpp
  cpu/kernels/optim.cpp
  cpu/kernels/half.cpp)
list(APPEND NNG_CORE_SOURCES cpu/cpu_backend.cpp)
list(APPEND NNG_CORE_SOURCES cpu/blas_core.cpp)
list(APPEND NNG_CORE_SOURCES cpu/kernels/fused.cpp)
list(APPEND NNG_CORE_SOURCES cpu/denormals.cpp)
