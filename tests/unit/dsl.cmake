# Language front end: lexer and parser (messages and locations), lowering (names, sugar,
# blocks, repeat, imports, consts, annotations, errors), robustness (garbage, deep
# nesting, huge inputs), the print -> parse round trip of the flat form, and the fast
# parser against the ANTLR one.
nng_unit_test(dsl_tests
  ${CMAKE_CURRENT_LIST_DIR}/dsl_parser_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dsl_lower_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dsl_sugar_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dsl_import_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dsl_robustness_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dsl_roundtrip_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dsl_fast_parser_test.cpp)
target_compile_definitions(dsl_tests PRIVATE NNG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
