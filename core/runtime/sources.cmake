list(APPEND NNG_CORE_SOURCES runtime/backend.cpp runtime/executor.cpp runtime/initializers.cpp
  runtime/stream_runner.cpp)
