# The prune pass: rules on hand-built graphs, and bit-identical results on examples/.
nng_unit_test(pass_prune_tests unit/pass_prune_test.cpp)
# The example-model equivalence tests read examples/ from the source tree.
target_compile_definitions(pass_prune_tests PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
