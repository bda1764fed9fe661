nng_unit_test(runtime_tests
  unit/runtime_gradcheck_test.cpp
  unit/runtime_executor_test.cpp)
