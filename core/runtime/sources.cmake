list(APPEND NNG_CORE_SOURCES runtime/backend.cpp runtime/executor.cpp runtime/initializers.cpp)
