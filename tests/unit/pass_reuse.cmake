# The reuse pass: notes and totals on hand-built graphs and on examples/.
nng_unit_test(pass_reuse_tests unit/pass_reuse_test.cpp)
# The example tests read examples/ from the source tree.
target_compile_definitions(pass_reuse_tests PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
