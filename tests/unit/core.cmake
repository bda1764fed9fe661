# Graph IR: the verifier's checks, one malformed graph each.
nng_unit_test(ir_verify_test unit/ir_verify_test.cpp)
# Interned file names of source locations.
nng_unit_test(diag_file_name_test unit/diag_file_name_test.cpp)
