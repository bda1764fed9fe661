# CPU kernel tests: forward kernels against naive references, backward kernels
# against finite differences (in double), optimizers against hand-computed steps,
# and run-to-run determinism.
nng_unit_test(cpu_kernels_test
  unit/cpu_elementwise_test.cpp
  unit/cpu_linalg_test.cpp
  unit/cpu_reduction_test.cpp
  unit/cpu_loss_test.cpp
  unit/cpu_conv_test.cpp
  unit/cpu_norm_test.cpp
  unit/cpu_nn_test.cpp
  unit/cpu_optim_test.cpp
  unit/cpu_determinism_test.cpp)
