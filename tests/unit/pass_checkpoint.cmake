nng_unit_test(pass_checkpoint_tests unit/pass_checkpoint_test.cpp)
# The equivalence tests checkpoint every model of examples/ in the source tree.
target_compile_definitions(pass_checkpoint_tests PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
