list(APPEND NNG_CORE_SOURCES train/safetensors.cpp train/gradcheck.cpp train/session.cpp train/optimizer.cpp train/checkpoint.cpp train/progress.cpp train/trainer.cpp)
