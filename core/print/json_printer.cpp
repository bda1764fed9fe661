// JSON writing (nlohmann::ordered_json keeps the schema's key order; the layout puts each
// value and node on one line so golden files diff well), and a strict reader that checks
// every key and type before it touches the Graph, whose builders treat bad ids and
// duplicate names as internal errors.
#include "core/print/json_printer.h"

#include <cmath>
#include <limits>
#include <map>

#include <nlohmann/json.hpp>

#include "core/print/nn_printer.h"

namespace nng {

namespace {

using OJson = nlohmann::ordered_json;
using Json = nlohmann::json;

const char *kFormat = "nng-graph";
constexpr int kVersion = 1;
// Attribute lists nest (a list of lists at most, in practice); deeper input is rejected
// rather than recursed into.
constexpr int kMaxAttrDepth = 16;

const char *kindName(ValueKind k) {
  switch (k) {
  case ValueKind::Input: return "input";
  case ValueKind::Param: return "param";
  case ValueKind::Buffer: return "buffer";
  case ValueKind::Node: return "node";
  }
  return "?";
}

// Typed attribute encoding: Int as a JSON integer, Float as a JSON number with a fraction
// or exponent (non-finite ones as {"float": "nan"|"inf"|"-inf"}), Bool as true/false,
// String as a JSON string, Name as {"name": "relu"}, List as an array.
OJson encodeAttr(const Attr &a) {
  switch (a.kind) {
  case Attr::Kind::Int: return a.i;
  case Attr::Kind::Float:
    if (std::isfinite(a.f))
      return a.f;
    return OJson{{"float", formatDouble(a.f)}};
  case Attr::Kind::Bool: return a.b;
  case Attr::Kind::String: return a.s;
  case Attr::Kind::Name: return OJson{{"name", a.s}};
  case Attr::Kind::List: {
    OJson list = OJson::array();
    for (const Attr &e : a.list)
      list.push_back(encodeAttr(e));
    return list;
  }
  }
  return nullptr;
}

OJson encodeLoc(const SourceLoc &loc) {
  return OJson{{"file", loc.file.str()}, {"line", loc.line}, {"col", loc.col}};
}

// One line of JSON with a space after each ':' and ',' (nlohmann's compact dump has none).
std::string compact(const OJson &j) {
  std::string out;
  if (j.is_object()) {
    out = "{";
    for (const auto &item : j.items())
      out += (out.size() > 1 ? ", " : "") + compact(OJson(item.key())) + ": " +
             compact(item.value());
    return out + "}";
  }
  if (j.is_array()) {
    out = "[";
    for (const OJson &e : j)
      out += (out.size() > 1 ? ", " : "") + compact(e);
    return out + "]";
  }
  // Invalid UTF-8 in a name or string cannot be JSON; it is replaced rather than thrown on.
  return j.dump(-1, ' ', false, OJson::error_handler_t::replace);
}

// --- reading -------------------------------------------------------------------------

[[noreturn]] void fail(const std::string &path, const std::string &message) {
  Diagnostic d;
  d.message = "nng-graph JSON: " + path + ": " + message;
  throw UserError(std::move(d));
}

std::string describe(const Json &j) {
  if (j.is_number_float())
    return "a float";
  if (j.is_number())
    return "an integer";
  if (j.is_boolean())
    return "a boolean";
  return std::string(j.is_array() || j.is_object() ? "an " : "a ") + j.type_name();
}

std::string key(const std::string &path, const std::string &k) {
  return path.empty() ? k : path + "." + k;
}

std::string index(const std::string &path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// An object with exactly the `required` keys and some of the `optional` ones.
void checkObject(const Json &j, const std::string &path, const std::vector<std::string> &required,
                 const std::vector<std::string> &optional) {
  if (!j.is_object())
    fail(path.empty() ? "document" : path, "expected an object, got " + describe(j));
  for (const std::string &k : required)
    if (!j.contains(k))
      fail(path.empty() ? "document" : path, "missing key '" + k + "'");
  std::vector<std::string> known = required;
  known.insert(known.end(), optional.begin(), optional.end());
  for (const auto &item : j.items()) {
    bool ok = false;
    for (const std::string &k : known)
      ok = ok || k == item.key();
    if (ok)
      continue;
    std::string hint = closestMatch(item.key(), known);
    fail(key(path, item.key()),
         "unknown key" + (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
  }
}

std::string readString(const Json &j, const std::string &path) {
  if (!j.is_string())
    fail(path, "expected a string, got " + describe(j));
  return j.get<std::string>();
}

int64_t readInt(const Json &j, const std::string &path, int64_t lo, int64_t hi) {
  if (!j.is_number_integer())
    fail(path, "expected an integer, got " + describe(j));
  // Non-negative integers parse as unsigned; past int64 they cannot be any of ours.
  if (j.is_number_unsigned() &&
      j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    fail(path, "integer out of range");
  int64_t v = j.get<int64_t>();
  if (v < lo || v > hi)
    fail(path, std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
                   std::to_string(hi) + "]");
  return v;
}

const Json &readArray(const Json &j, const std::string &path) {
  if (!j.is_array())
    fail(path, "expected an array, got " + describe(j));
  return j;
}

Attr decodeAttr(const Json &j, const std::string &path, int depth) {
  if (depth > kMaxAttrDepth)
    fail(path, "attribute lists nest deeper than " + std::to_string(kMaxAttrDepth));
  if (j.is_number_float())
    return Attr::ofFloat(j.get<double>());
  if (j.is_number())
    return Attr::ofInt(readInt(j, path, std::numeric_limits<int64_t>::min(),
                               std::numeric_limits<int64_t>::max()));
  if (j.is_boolean())
    return Attr::ofBool(j.get<bool>());
  if (j.is_string())
    return Attr::ofString(j.get<std::string>());
  if (j.is_array()) {
    std::vector<Attr> list;
    for (size_t i = 0; i < j.size(); ++i)
      list.push_back(decodeAttr(j[i], index(path, i), depth + 1));
    return Attr::ofList(std::move(list));
  }
  if (j.is_object() && j.size() == 1 && j.contains("name"))
    return Attr::ofName(readString(j["name"], key(path, "name")));
  if (j.is_object() && j.size() == 1 && j.contains("float")) {
    std::string s = readString(j["float"], key(path, "float"));
    if (s == "nan")
      return Attr::ofFloat(std::numeric_limits<double>::quiet_NaN());
    if (s == "inf" || s == "-inf")
      return Attr::ofFloat((s == "inf" ? 1 : -1) * std::numeric_limits<double>::infinity());
    fail(key(path, "float"), "expected \"nan\", \"inf\" or \"-inf\", got \"" + s + "\"");
  }
  fail(path, "expected an attribute (integer, float, boolean, string, list, {\"name\": ...} "
             "or {\"float\": ...}), got " + describe(j));
}

SourceLoc readLoc(const Json &j, const std::string &path) {
  checkObject(j, path, {"file", "line", "col"}, {});
  SourceLoc loc;
  loc.file = readString(j["file"], key(path, "file"));
  loc.line = static_cast<int>(readInt(j["line"], key(path, "line"), 0,
                                      std::numeric_limits<int>::max()));
  loc.col = static_cast<int>(readInt(j["col"], key(path, "col"), 0,
                                     std::numeric_limits<int>::max()));
  return loc;
}

TensorType readType(const Json &v, const std::string &path) {
  TensorType t;
  std::string dt = readString(v["dtype"], key(path, "dtype"));
  auto dtype = parseDType(dt);
  if (!dtype)
    fail(key(path, "dtype"), "unknown dtype '" + dt + "' (expected f32, f16, bf16, f64, i32, "
                             "i64 or bool)");
  t.dtype = *dtype;
  std::string shapePath = key(path, "shape");
  const Json &shape = readArray(v["shape"], shapePath);
  for (size_t i = 0; i < shape.size(); ++i) {
    const Json &d = shape[i];
    if (d.is_string() && !d.get<std::string>().empty())
      t.shape.push_back(Dim::sym(d.get<std::string>()));
    else if (d.is_number_integer())
      t.shape.push_back(Dim(readInt(d, index(shapePath, i), 0, kMaxElements)));
    else
      fail(index(shapePath, i), "expected a non-negative integer or a symbol name, got " +
                                    (d.is_string() ? "an empty string" : describe(d)));
  }
  return t;
}

// A node entry, checked but not yet added (its value's entry says when).
struct NodeEntry {
  std::string op;
  std::vector<ValueId> inputs;
  AttrMap attrs;
  ValueId output = kNone;
  SourceLoc loc;
  std::vector<std::string> callChain;
  std::string note;
};

NodeEntry readNode(const Json &j, const std::string &path, size_t valueCount) {
  checkObject(j, path, {"op", "inputs", "output", "attrs"}, {"loc", "call_chain", "note"});
  NodeEntry n;
  n.op = readString(j["op"], key(path, "op"));
  if (n.op.empty())
    fail(key(path, "op"), "empty op name");
  auto maxId = static_cast<int64_t>(valueCount) - 1;
  n.output = static_cast<ValueId>(readInt(j["output"], key(path, "output"), 0, maxId));
  std::string inPath = key(path, "inputs");
  const Json &ins = readArray(j["inputs"], inPath);
  for (size_t i = 0; i < ins.size(); ++i) {
    n.inputs.push_back(static_cast<ValueId>(readInt(ins[i], index(inPath, i), 0, maxId)));
  }
  const Json &attrs = j["attrs"];
  if (!attrs.is_object())
    fail(key(path, "attrs"), "expected an object, got " + describe(attrs));
  for (const auto &item : attrs.items())
    n.attrs[item.key()] = decodeAttr(item.value(), key(key(path, "attrs"), item.key()), 0);
  if (j.contains("loc"))
    n.loc = readLoc(j["loc"], key(path, "loc"));
  if (j.contains("call_chain")) {
    std::string chainPath = key(path, "call_chain");
    const Json &chain = readArray(j["call_chain"], chainPath);
    for (size_t i = 0; i < chain.size(); ++i)
      n.callChain.push_back(readString(chain[i], index(chainPath, i)));
  }
  if (j.contains("note"))
    n.note = readString(j["note"], key(path, "note"));
  return n;
}

} // namespace

std::string printJson(const Graph &g) {
  std::vector<std::string> names = printedNames(g);
  OJson doc;
  doc["format"] = kFormat;
  doc["version"] = kVersion;
  doc["model"] = g.name;
  OJson values = OJson::array();
  for (size_t i = 0; i < g.values().size(); ++i) {
    const Value &v = g.values()[i];
    OJson shape = OJson::array();
    for (const Dim &d : v.type.shape)
      shape.push_back(d.isSymbolic() ? OJson(d.symbol) : OJson(d.value));
    OJson e;
    e["id"] = i;
    e["name"] = names[i];
    e["kind"] = kindName(v.kind);
    e["dtype"] = dtypeName(v.type.dtype);
    e["shape"] = shape;
    if ((v.kind == ValueKind::Param || v.kind == ValueKind::Buffer) && !v.init.kind.empty()) {
      OJson args = OJson::array();
      for (const Attr &a : v.init.args)
        args.push_back(encodeAttr(a));
      e["init"] = OJson{{"kind", v.init.kind}, {"args", args}};
    }
    // A node value's location is its node's, written there.
    if (v.kind != ValueKind::Node && v.loc.valid())
      e["loc"] = encodeLoc(v.loc);
    values.push_back(e);
  }
  doc["values"] = values;
  OJson nodes = OJson::array();
  for (const Node &n : g.nodes()) {
    OJson e;
    e["op"] = n.op;
    e["inputs"] = n.inputs;
    e["output"] = n.output;
    OJson attrs = OJson::object();
    for (const auto &[k, a] : n.attrs)
      attrs[k] = encodeAttr(a);
    e["attrs"] = attrs;
    if (n.loc.valid())
      e["loc"] = encodeLoc(n.loc);
    if (!n.callChain.empty())
      e["call_chain"] = n.callChain;
    if (!n.note.empty())
      e["note"] = n.note;
    nodes.push_back(e);
  }
  doc["nodes"] = nodes;
  doc["outputs"] = g.outputs();
  doc["loss"] = g.loss() ? OJson(*g.loss()) : OJson(nullptr);

  // The fixed layout: one line per top-level key, and one line per value and per node.
  std::string out = "{\n";
  size_t k = 0;
  for (const auto &item : doc.items()) {
    out += "  " + compact(OJson(item.key())) + ": ";
    const OJson &v = item.value();
    if (v.is_array() && !v.empty() && v.front().is_object()) {
      out += "[\n";
      for (size_t i = 0; i < v.size(); ++i)
        out += "    " + compact(v[i]) + (i + 1 < v.size() ? ",\n" : "\n");
      out += "  ]";
    } else {
      out += compact(v);
    }
    out += ++k < doc.size() ? ",\n" : "\n";
  }
  return out + "}\n";
}

Graph readJson(const std::string &text) {
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::parse_error &e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
    std::string what = e.what();
    size_t at = what.find("] ");
    fail("document", "invalid JSON: " + (at == std::string::npos ? what : what.substr(at + 2)));
  }
  checkObject(doc, "", {"format", "version", "model", "values", "nodes"}, {"outputs", "loss"});
  std::string format = readString(doc["format"], "format");
  if (format != kFormat)
    fail("format", "expected \"" + std::string(kFormat) + "\", got \"" + format + "\"");
  int64_t version = readInt(doc["version"], "version", std::numeric_limits<int64_t>::min(),
                            std::numeric_limits<int64_t>::max());
  if (version != kVersion)
    fail("version", "unsupported version " + std::to_string(version) + " (this nng reads " +
                        std::to_string(kVersion) + ")");

  Graph g;
  g.name = readString(doc["model"], "model");
  const Json &values = readArray(doc["values"], "values");
  const Json &nodesJson = readArray(doc["nodes"], "nodes");

  std::vector<NodeEntry> nodes;
  std::map<ValueId, size_t> producer; // value id -> index in `nodes`
  for (size_t k = 0; k < nodesJson.size(); ++k) {
    nodes.push_back(readNode(nodesJson[k], index("nodes", k), values.size()));
    auto [it, fresh] = producer.emplace(nodes.back().output, k);
    if (!fresh)
      fail(index("nodes", k) + ".output", "value " + std::to_string(nodes.back().output) +
                                              " is already produced by nodes[" +
                                              std::to_string(it->second) + "]");
  }

  std::map<std::string, size_t> nameAt; // name -> index in `values`
  size_t nextNode = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    std::string path = index("values", i);
    const Json &v = values[i];
    checkObject(v, path, {"id", "name", "kind", "dtype", "shape"}, {"init", "loc"});
    int64_t id = readInt(v["id"], key(path, "id"), 0, std::numeric_limits<int64_t>::max());
    if (id != static_cast<int64_t>(i))
      fail(key(path, "id"), "expected " + std::to_string(i) + " (values are listed in id "
                            "order), got " + std::to_string(id));
    std::string name = readString(v["name"], key(path, "name"));
    if (!name.empty()) {
      auto [it, fresh] = nameAt.emplace(name, i);
      if (!fresh)
        fail(key(path, "name"), "'" + name + "' is already the name of values[" +
                                    std::to_string(it->second) + "]");
    }
    std::string kind = readString(v["kind"], key(path, "kind"));
    if (kind != "input" && kind != "param" && kind != "buffer" && kind != "node")
      fail(key(path, "kind"), "unknown kind '" + kind + "' (expected input, param, buffer or "
                              "node)");
    TensorType type = readType(v, path);
    bool stateful = kind == "param" || kind == "buffer";
    if (v.contains("init") && !stateful)
      fail(key(path, "init"), "only param and buffer values have an initializer");
    if (v.contains("loc") && kind == "node")
      fail(key(path, "loc"), "a node value's location is given on its node");
    SourceLoc loc = v.contains("loc") ? readLoc(v["loc"], key(path, "loc")) : SourceLoc{};

    auto made = producer.find(static_cast<ValueId>(i));
    if (kind != "node" && made != producer.end())
      fail(index("nodes", made->second) + ".output",
           "value " + std::to_string(i) + " is " + kind + ", not a node value");
    if (kind == "input") {
      g.addInput(name, type, loc);
    } else if (stateful) {
      Initializer init;
      if (v.contains("init")) {
        std::string initPath = key(path, "init");
        const Json &ij = v["init"];
        checkObject(ij, initPath, {"kind", "args"}, {});
        init.kind = readString(ij["kind"], key(initPath, "kind"));
        const Json &args = readArray(ij["args"], key(initPath, "args"));
        for (size_t a = 0; a < args.size(); ++a)
          init.args.push_back(decodeAttr(args[a], index(key(initPath, "args"), a), 0));
      }
      g.addParam(name, type, init, loc, kind == "buffer" ? ValueKind::Buffer : ValueKind::Param);
    } else {
      if (made == producer.end())
        fail(path, "node value " + std::to_string(i) + " is the output of no node");
      // The Graph numbers nodes as it adds them, so they must come in output order.
      if (made->second != nextNode)
        fail(index("nodes", made->second) + ".output",
             "nodes are not in the order of their output values (expected nodes[" +
                 std::to_string(nextNode) + "] to produce value " + std::to_string(i) + ")");
      NodeEntry &n = nodes[nextNode];
      // Values are added in id order, so only lower ids exist when this node is added.
      for (size_t k = 0; k < n.inputs.size(); ++k)
        if (n.inputs[k] >= static_cast<ValueId>(i))
          fail(index(index("nodes", nextNode) + ".inputs", k),
               "value " + std::to_string(n.inputs[k]) + " is not defined before this node's "
               "output " + std::to_string(i));
      ValueId produced = g.addNode(n.op, std::move(n.inputs), std::move(n.attrs), type, name,
                                   n.loc, std::move(n.callChain));
      g.node(g.value(produced).producer).note = n.note;
      ++nextNode;
    }
  }

  auto maxId = static_cast<int64_t>(values.size()) - 1;
  if (doc.contains("outputs")) {
    const Json &outputs = readArray(doc["outputs"], "outputs");
    for (size_t i = 0; i < outputs.size(); ++i)
      g.markOutput(static_cast<ValueId>(readInt(outputs[i], index("outputs", i), 0, maxId)));
  }
  if (doc.contains("loss") && !doc["loss"].is_null())
    g.setLoss(static_cast<ValueId>(readInt(doc["loss"], "loss", 0, maxId)));
  return g;
}

} // namespace nng
