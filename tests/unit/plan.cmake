nng_unit_test(plan_tests unit/plan_memory_test.cpp unit/plan_arena_test.cpp)
# The examples' memory plans and arena training runs read examples/ from the source tree.
target_compile_definitions(plan_tests PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
