nng_unit_test(pass_amp_tests unit/pass_amp_test.cpp)
# The training tests read the examples/ and their configs.
target_compile_definitions(pass_amp_tests PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
