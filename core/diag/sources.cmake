list(APPEND NNG_CORE_SOURCES diag/diagnostic.cpp diag/units.cpp)
