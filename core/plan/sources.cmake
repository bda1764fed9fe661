list(APPEND NNG_CORE_SOURCES plan/schedule.cpp)
