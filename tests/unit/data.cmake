# Data tests: config parsing and validation, readers, datasets and the batcher.
nng_unit_test(nng_data_tests
  unit/data_config.cpp
  unit/data_readers.cpp
  unit/data_batcher.cpp)
# The config test parses the example in docs/config.md, so the docs cannot drift.
target_compile_definitions(nng_data_tests PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
