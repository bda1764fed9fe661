list(APPEND NNG_CORE_SOURCES
  data/array.cpp
  data/random.cpp
  data/idx.cpp
  data/npy.cpp
  data/csv.cpp
  data/synthetic.cpp
  data/config.cpp
  data/dataset.cpp
  data/batcher.cpp
  data/atomic_file.cpp)
