nng_unit_test(pass_fuse_tests unit/pass_fuse_test.cpp)
# The example-model tests read examples/ from the source tree.
target_compile_definitions(pass_fuse_tests PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
