# Golden tests: the printed form of every source in tests/golden/inputs/ and examples/
# equals the reviewed file in tests/golden/expected/ (regenerate: tests/golden/update.sh
# BUILD_DIR), the nn form reads back to itself (`nng print F | nng print -`), and every op
# of docs/ops.md appears in some golden output.
file(GLOB NNG_GOLDEN_INPUTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/inputs/*.nn)
file(GLOB NNG_EXAMPLES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/examples/*.nn)
foreach(src ${NNG_GOLDEN_INPUTS} ${NNG_EXAMPLES})
  get_filename_component(name ${src} NAME_WE)
  if(src IN_LIST NNG_EXAMPLES)
    set(name example_${name})
  endif()
  add_test(NAME golden.${name}
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check.sh $<TARGET_FILE:nng> ${name} ${src})
  add_test(NAME roundtrip.${name}
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/roundtrip.sh $<TARGET_FILE:nng> ${src})
endforeach()
add_test(NAME golden.op_coverage COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/coverage.sh)
