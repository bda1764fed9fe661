list(APPEND NNG_CORE_SOURCES
  ops/registry.cpp
  ops/rules.cpp
  ops/grad.cpp
  ops/elementwise.cpp
  ops/linalg.cpp
  ops/shape_ops.cpp
  ops/reduction.cpp
  ops/loss.cpp
  ops/nn.cpp
  ops/fused.cpp
  ops/optimizer.cpp
  ops/amp.cpp
  ops/backward.cpp
  ops/costs.cpp)
