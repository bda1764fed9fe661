# Graph IR: the verifier's checks, one malformed graph each.
nng_unit_test(ir_verify_test unit/ir_verify_test.cpp)
