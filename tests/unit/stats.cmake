# core/stats: the numbers `nng stats` prints, checked against examples/mlp.nn.
nng_unit_test(stats_tests unit/stats_test.cpp)
target_compile_definitions(stats_tests PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
