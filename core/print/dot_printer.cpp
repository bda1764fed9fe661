// Graphviz output: vertices first (inputs, params and buffers, nodes), then the edges in
// node order.
#include "core/print/dot_printer.h"

#include <set>
#include <sstream>

#include "core/print/nn_printer.h"

namespace nng {

namespace {

// Attribute values longer than this are cut in labels (a fused chain can be long); the
// full text is in the nn form.
constexpr size_t kMaxAttrChars = 24;

std::string brief(const std::string &s) {
  if (s.size() <= kMaxAttrChars)
    return s;
  // Cut before a UTF-8 continuation byte, never inside a character.
  size_t cut = kMaxAttrChars;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
    --cut;
  return s.substr(0, cut) + "...";
}

// A label of several lines: each escaped, joined by DOT's \n line break.
std::string label(const std::vector<std::string> &lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string q = dotQuote(lines[i]);
    out += (i ? "\\n" : "") + q.substr(1, q.size() - 2);
  }
  return "\"" + out + "\"";
}

} // namespace

std::string dotQuote(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out + "\"";
}

std::string printDot(const Graph &g) {
  std::vector<std::string> names = printedNames(g);
  auto id = [&](ValueId v) { return dotQuote(names.at(static_cast<size_t>(v))); };
  std::set<ValueId> outputs(g.outputs().begin(), g.outputs().end());
  ValueId loss = g.loss().value_or(kNone);
  // Outputs and the loss stand out with a double border; the loss is also red.
  auto highlight = [&](ValueId v) {
    std::string s;
    if (outputs.count(v) || v == loss)
      s += ", peripheries=2";
    if (v == loss)
      s += ", color=red";
    return s;
  };

  std::ostringstream os;
  os << "digraph " << dotQuote(printedModelName(g)) << " {\n";
  os << "  rankdir=TB;\n";
  os << "  node [fontname=\"Helvetica\", fontsize=10];\n";
  os << "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  for (ValueId v : g.inputs())
    os << "  " << id(v) << " [shape=ellipse, label="
       << label({names[v], "input " + g.typeOf(v).str()}) << highlight(v) << "];\n";
  for (ValueId v : g.params()) {
    const Value &val = g.value(v);
    bool buffer = val.kind == ValueKind::Buffer;
    std::vector<std::string> lines = {names[v],
                                      (buffer ? "buffer " : "param ") + val.type.str()};
    if (!val.init.kind.empty())
      lines.push_back(brief(val.init.str()));
    os << "  " << id(v) << " [shape=box, style=filled, fillcolor="
       << (buffer ? "lightyellow" : "lightgrey") << ", label=" << label(lines) << highlight(v)
       << "];\n";
  }
  for (const Node &n : g.nodes()) {
    std::vector<std::string> lines = {names[n.output] + " = " + n.op, g.typeOf(n.output).str()};
    if (!n.attrs.empty()) {
      std::string attrs;
      for (const auto &[key, attr] : n.attrs)
        attrs += (attrs.empty() ? "" : ", ") + key + " = " + brief(attr.str());
      lines.push_back(attrs);
    }
    os << "  " << id(n.output) << " [shape=box, style=rounded, label=" << label(lines)
       << highlight(n.output) << "];\n";
  }
  for (const Node &n : g.nodes())
    for (ValueId in : n.inputs)
      os << "  " << id(in) << " -> " << id(n.output)
         << " [label=" << dotQuote(g.typeOf(in).str()) << "];\n";
  os << "}\n";
  return os.str();
}

} // namespace nng
