// Helpers shared by the front end's tests: lower source text held in a string and read
// the diagnostics back as short "file:line:col: message" lines.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/diag/diagnostic.h"
#include "core/ir/graph.h"
#include "dsl/frontend.h"

namespace nng::dsl::testing {

struct Lowered {
  std::optional<Graph> graph;
  DiagnosticSink sink;
  // Each diagnostic as "file:line:col: message" (no source line, no notes).
  std::vector<std::string> errors() const {
    std::vector<std::string> out;
    for (const Diagnostic &d : sink.diagnostics())
      out.push_back((d.loc.valid() ? d.loc.str() : d.loc.file.str()) + ": " + d.message);
    return out;
  }
  const Graph &g() const { return graph.value(); }
};

inline Lowered lower(const std::string &text, const std::string &model = "",
                     const std::string &path = "m.nn") {
  Lowered r;
  r.graph = loadModel(Source{path, text, false}, model, r.sink);
  return r;
}

// The diagnostics of a source expected to fail.
inline std::vector<std::string> errorsOf(const std::string &text,
                                         const std::string &path = "m.nn") {
  return lower(text, "", path).errors();
}

inline const Value &valueNamed(const Graph &g, const std::string &name) {
  ValueId id = g.find(name);
  NNG_CHECK(id != kNone, "no value named " + name);
  return g.value(id);
}

// The node that produces the value called `name`.
inline const Node &nodeNamed(const Graph &g, const std::string &name) {
  const Value &v = valueNamed(g, name);
  NNG_CHECK(v.kind == ValueKind::Node, name + " is not a node output");
  return g.node(v.producer);
}

inline std::vector<std::string> paramNames(const Graph &g) {
  std::vector<std::string> out;
  for (ValueId p : g.params())
    out.push_back(g.value(p).name);
  return out;
}

// The names of a node's inputs ("" for a temporary).
inline std::vector<std::string> inputNames(const Graph &g, const Node &n) {
  std::vector<std::string> out;
  for (ValueId in : n.inputs)
    out.push_back(g.value(in).name);
  return out;
}

} // namespace nng::dsl::testing
