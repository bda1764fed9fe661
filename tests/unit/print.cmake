# Printer tests: nn (flat form), DOT, JSON (with its reader) and structural graph equality.
nng_unit_test(print_tests
  ${CMAKE_CURRENT_LIST_DIR}/print_nn.cpp
  ${CMAKE_CURRENT_LIST_DIR}/print_dot.cpp
  ${CMAKE_CURRENT_LIST_DIR}/print_json.cpp
  ${CMAKE_CURRENT_LIST_DIR}/print_graph_equal.cpp)
