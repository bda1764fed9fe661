list(APPEND NNG_CORE_SOURCES train/safetensors.cpp train/gradcheck.cpp)
