nng_unit_test(pass_schedule_tests unit/pass_schedule_test.cpp)
# The tests schedule and run the examples/ from the source tree.
target_compile_definitions(pass_schedule_tests PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
