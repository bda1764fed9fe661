# Op registry: type rules, messages, FLOPs, fusion kinds, and docs/ops.md agreement.
nng_unit_test(ops_test unit/ops_test.cpp)
target_compile_definitions(ops_test PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
