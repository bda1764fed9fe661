list(APPEND NNG_CORE_SOURCES passes/autodiff.cpp)
