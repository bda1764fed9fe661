nng_unit_test(runtime_tests
  unit/runtime_gradcheck_test.cpp
  unit/runtime_executor_test.cpp)
# The example-model gradient checks read examples/ from the source tree.
target_compile_definitions(runtime_tests PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
