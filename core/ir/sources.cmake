list(APPEND NNG_CORE_SOURCES ir/type.cpp ir/attr.cpp ir/graph.cpp ir/verify.cpp ir/retype.cpp ir/subgraph.cpp ir/rewrite.cpp)
