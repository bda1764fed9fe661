nng_unit_test(train_tests unit/train_resume_test.cpp unit/train_passes_test.cpp)
# The pass-equivalence tests train the examples/ with their configs.
target_compile_definitions(train_tests PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
