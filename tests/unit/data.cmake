# Data tests: config parsing and validation, readers, datasets and the batcher.
nng_unit_test(nng_data_tests
  unit/data_config.cpp
  unit/data_readers.cpp
  unit/data_batcher.cpp)
