# End-to-end tests of the nng executable: one CTest test per case file in
# tests/cli/cases/ (*.nn: a source checked by nng; *.case: any command line). The
# expectations sit in each file's header; run_case.sh documents the directives.
file(GLOB NNG_CLI_CASES CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_LIST_DIR}/cases/*.nn
  ${CMAKE_CURRENT_LIST_DIR}/cases/*.case)
foreach(case_path ${NNG_CLI_CASES})
  get_filename_component(case_name ${case_path} NAME)
  add_test(NAME cli.${case_name}
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run_case.sh $<TARGET_FILE:nng> ${case_path})
endforeach()

# Scripted end-to-end tests: training interrupted by SIGINT and resumed; the success
# path of train, eval and predict; checkpoints; grad, gradcheck and run. Each takes the
# nng binary.
foreach(script sigint_test train_flow_test checkpoint_test grad_flow_test pipe_compose_test
    optimize_all_test)
  add_test(NAME cli.${script}
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${script}.sh $<TARGET_FILE:nng>)
endforeach()
