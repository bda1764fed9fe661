list(APPEND NNG_CORE_SOURCES
  print/nn_printer.cpp
  print/dot_printer.cpp
  print/json_printer.cpp
  print/graph_equal.cpp)
