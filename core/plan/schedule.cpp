// Schedules: the sequential one (the parallel one is in streams.cpp).
#include "core/plan/schedule.h"

namespace nng {

Schedule sequentialSchedule(const Graph &g) {
  Schedule s;
  const size_t n = g.nodes().size();
  s.order.reserve(n);
  for (size_t i = 0; i < n; ++i)
    s.order.push_back(static_cast<NodeId>(i));
  s.stream.assign(n, 0);
  s.waits.assign(n, {});
  return s;
}

} // namespace nng
