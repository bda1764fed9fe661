list(APPEND NNG_CORE_SOURCES plan/schedule.cpp)
list(APPEND NNG_CORE_SOURCES plan/streams.cpp)
list(APPEND NNG_CORE_SOURCES plan/memory_plan.cpp)
