list(APPEND NNG_CORE_SOURCES diag/diagnostic.cpp diag/file_name.cpp diag/units.cpp)
