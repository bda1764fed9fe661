nng_unit_test(train_tests unit/train_resume_test.cpp)
