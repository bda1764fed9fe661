list(APPEND NNG_CORE_SOURCES passes/pass_manager.cpp passes/autodiff.cpp passes/prune.cpp
  passes/fuse.cpp passes/amp.cpp passes/checkpoint.cpp passes/reuse.cpp passes/schedule.cpp)
