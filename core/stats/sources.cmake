list(APPEND NNG_CORE_SOURCES stats/stats.cpp)
