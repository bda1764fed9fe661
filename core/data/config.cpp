// Parsing, validation, --set overrides and printing of the training config.
//
// The YAML is first loaded as a tree, the --set assignments are applied to the tree,
// then one pass reads it into TrainConfig, section by section. Every map's keys are
// checked against the keys valid there before any value is read, so a typo is
// reported as such (with a did-you-mean), not as a missing key. Errors carry the
// YAML node's line and column; values that came from --set carry the assignment
// instead, since they have no place in the file.
#include "core/data/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <sstream>

namespace nng {

const char *formatName(DataFormat f) {
  switch (f) {
  case DataFormat::Idx:
    return "idx";
  case DataFormat::Csv:
    return "csv";
  case DataFormat::Npy:
    return "npy";
  case DataFormat::Synthetic:
    return "synthetic";
  }
  return "?";
}

const char *precisionName(Precision p) {
  switch (p) {
  case Precision::Fp32:
    return "fp32";
  case Precision::Fp16:
    return "fp16";
  case Precision::Bf16:
    return "bf16";
  }
  return "?";
}

const char *optimizerName(OptimizerType t) {
  switch (t) {
  case OptimizerType::Sgd:
    return "sgd";
  case OptimizerType::Adam:
    return "adam";
  case OptimizerType::AdamW:
    return "adamw";
  }
  return "?";
}

const char *scheduleName(ScheduleType t) {
  switch (t) {
  case ScheduleType::Constant:
    return "constant";
  case ScheduleType::Step:
    return "step";
  case ScheduleType::MultiStep:
    return "multistep";
  case ScheduleType::Cosine:
    return "cosine";
  case ScheduleType::Poly:
    return "poly";
  }
  return "?";
}

const char *progressName(ProgressMode m) {
  switch (m) {
  case ProgressMode::Auto:
    return "auto";
  case ProgressMode::Bar:
    return "bar";
  case ProgressMode::Plain:
    return "plain";
  case ProgressMode::None:
    return "none";
  }
  return "?";
}

const char *syntheticName(SyntheticKind k) {
  switch (k) {
  case SyntheticKind::Blobs:
    return "blobs";
  case SyntheticKind::Spirals:
    return "spirals";
  case SyntheticKind::Random:
    return "random";
  }
  return "?";
}

SourceLoc TrainConfig::locOf(const std::string &keyPath) const {
  auto it = locs.find(keyPath);
  return it != locs.end() ? it->second : SourceLoc{file, 0, 0};
}

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------
// Reading context and errors

struct Override {
  std::string path;       // normalized key path ("optimizer.betas[0]")
  std::string assignment; // as given on the command line
};

struct Ctx {
  std::string file;
  fs::path baseDir;
  std::vector<Override> overrides;
  std::map<std::string, SourceLoc> *locs = nullptr;
};

bool underPath(const std::string &path, const std::string &prefix) {
  if (path.compare(0, prefix.size(), prefix) != 0)
    return false;
  return path.size() == prefix.size() || path[prefix.size()] == '.' || path[prefix.size()] == '[';
}

const Override *overrideOf(const Ctx &ctx, const std::string &path) {
  for (auto it = ctx.overrides.rbegin(); it != ctx.overrides.rend(); ++it)
    if (underPath(path, it->path))
      return &*it;
  return nullptr;
}

SourceLoc locOf(const Ctx &ctx, const YAML::Node &node) {
  YAML::Mark m = node.IsDefined() ? node.Mark() : YAML::Mark::null_mark();
  if (m.is_null())
    return SourceLoc{ctx.file, 0, 0};
  return SourceLoc{ctx.file, m.line + 1, m.column + 1};
}

// `origin` is the key path whose value is at fault; it differs from `path` (the prefix
// of the message) only for unknown keys, which are reported against their map.
[[noreturn]] void fail(const Ctx &ctx, const YAML::Node &node, const std::string &path,
                       const std::string &msg, const std::string *origin = nullptr) {
  std::string text = path.empty() ? msg : path + ": " + msg;
  const Override *o = overrideOf(ctx, origin ? *origin : path);
  // An unknown key may also have been made by a --set below it (optimiser.lr=1).
  for (auto it = ctx.overrides.rbegin(); !o && origin && it != ctx.overrides.rend(); ++it)
    if (underPath(it->path, *origin))
      o = &*it;
  if (o)
    throwAt(SourceLoc{}, text + " (from --set " + o->assignment + ")");
  throwAt(locOf(ctx, node), text);
}

void record(Ctx &ctx, const YAML::Node &node, const std::string &path) {
  SourceLoc loc = locOf(ctx, node);
  if (loc.valid() && !overrideOf(ctx, path))
    (*ctx.locs)[path] = loc;
}

std::string describe(const YAML::Node &n) {
  switch (n.Type()) {
  case YAML::NodeType::Scalar:
    return "'" + n.Scalar() + "'";
  case YAML::NodeType::Sequence:
    return "a list";
  case YAML::NodeType::Map:
    return "a map";
  default:
    return "nothing";
  }
}

std::string joinNames(const std::vector<std::string> &names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i)
    s += (i ? ", " : "") + names[i];
  return s;
}

// ---------------------------------------------------------------------------------
// Typed scalars

std::string scalarOf(Ctx &ctx, const YAML::Node &n, const std::string &path, const char *expected) {
  if (!n.IsScalar())
    fail(ctx, n, path, std::string("expected ") + expected + ", got " + describe(n));
  record(ctx, n, path);
  return n.Scalar();
}

int64_t readInt(Ctx &ctx, const YAML::Node &n, const std::string &path) {
  std::string s = scalarOf(ctx, n, path, "an integer");
  const char *b = s.data(), *e = s.data() + s.size();
  if (b != e && *b == '+')
    ++b;
  int64_t v = 0;
  auto r = std::from_chars(b, e, v);
  if (r.ec == std::errc::result_out_of_range)
    fail(ctx, n, path, "integer out of range: '" + s + "'");
  if (r.ec != std::errc() || r.ptr != e || b == e)
    fail(ctx, n, path, "expected an integer, got '" + s + "'");
  return v;
}

int64_t readIntAtLeast(Ctx &ctx, const YAML::Node &n, const std::string &path, int64_t lo) {
  int64_t v = readInt(ctx, n, path);
  if (v < lo)
    fail(ctx, n, path, "must be >= " + std::to_string(lo) + ", got " + std::to_string(v));
  return v;
}

uint64_t readSeed(Ctx &ctx, const YAML::Node &n, const std::string &path) {
  std::string s = scalarOf(ctx, n, path, "a non-negative integer");
  uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty())
    fail(ctx, n, path, "expected a non-negative integer below 2^64, got '" + s + "'");
  return v;
}

double readNumber(Ctx &ctx, const YAML::Node &n, const std::string &path) {
  std::string s = scalarOf(ctx, n, path, "a number");
  const char *b = s.data(), *e = s.data() + s.size();
  if (b != e && *b == '+')
    ++b;
  double v = 0;
  auto r = std::from_chars(b, e, v);
  if (r.ec != std::errc() || r.ptr != e || b == e)
    fail(ctx, n, path, "expected a number, got '" + s + "'");
  if (!std::isfinite(v))
    fail(ctx, n, path, "must be a finite number, got '" + s + "'");
  return v;
}

// Range checks print the bound and the value as written in the file.
double readNumberIn(Ctx &ctx, const YAML::Node &n, const std::string &path, double lo, bool loOpen,
                    double hi, bool hiOpen, const char *range) {
  double v = readNumber(ctx, n, path);
  bool ok = (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  if (!ok)
    fail(ctx, n, path, std::string("must be ") + range + ", got " + n.Scalar());
  return v;
}

constexpr double kInf = HUGE_VAL;

bool readBool(Ctx &ctx, const YAML::Node &n, const std::string &path) {
  std::string s = scalarOf(ctx, n, path, "true or false");
  if (s == "true" || s == "True" || s == "TRUE")
    return true;
  if (s == "false" || s == "False" || s == "FALSE")
    return false;
  fail(ctx, n, path, "expected true or false, got '" + s + "'");
}

std::string readString(Ctx &ctx, const YAML::Node &n, const std::string &path) {
  return scalarOf(ctx, n, path, "a string");
}

template <class E>
E readEnum(Ctx &ctx, const YAML::Node &n, const std::string &path, const char *what,
           const std::vector<std::pair<const char *, E>> &choices) {
  std::string s = scalarOf(ctx, n, path, what);
  std::vector<std::string> names;
  for (const auto &[name, value] : choices) {
    if (s == name)
      return value;
    names.push_back(name);
  }
  const std::string near = closestMatch(s, names);
  fail(ctx, n, path,
       std::string("unknown ") + what + " '" + s + "'" +
           (near.empty() ? "" : "; did you mean '" + near + "'?") + " (expected " +
           joinNames(names) + ")");
}

// ---------------------------------------------------------------------------------
// Maps: duplicate and unknown keys

class MapView {
public:
  // A null node (`checkpoint:` with nothing after it) reads as an empty map.
  MapView(Ctx &ctx, const YAML::Node &node, std::string path)
      : ctx_(ctx), node_(node), path_(std::move(path)) {
    if (!node.IsDefined() || node.IsNull())
      return;
    if (!node.IsMap())
      fail(ctx, node, path_, "expected a map, got " + describe(node));
    if (!path_.empty())
      record(ctx, node, path_);
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (key.empty())
        fail(ctx, it->first, path_, "keys must be plain names");
      for (const auto &e : entries_)
        if (e.key == key)
          fail(ctx, it->first, childPath(key), "duplicate key '" + key + "'");
      entries_.push_back(Entry{key, it->first, it->second});
    }
  }

  const std::string &path() const { return path_; }
  const YAML::Node &node() const { return node_; }
  std::string childPath(const std::string &key) const {
    return path_.empty() ? key : path_ + "." + key;
  }
  bool has(const std::string &key) const { return find(key) != nullptr; }
  YAML::Node get(const std::string &key) const {
    const Entry *e = find(key);
    return e ? e->value : YAML::Node(YAML::NodeType::Undefined);
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    for (const auto &e : entries_)
      k.push_back(e.key);
    return k;
  }

  // Every key must be in `allowed`. Keys in `misplaced` are valid elsewhere and get
  // that explanation instead of a did-you-mean.
  void checkKeys(const std::vector<std::string> &allowed,
                 const std::map<std::string, std::string> &misplaced = {}) const {
    for (const auto &e : entries_) {
      if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end())
        continue;
      auto m = misplaced.find(e.key);
      if (m != misplaced.end())
        fail(ctx_, e.keyNode, childPath(e.key), m->second);
      std::string near = closestMatch(e.key, allowed);
      std::string origin = childPath(e.key);
      fail(ctx_, e.keyNode, path_,
           "unknown key '" + e.key + "'" +
               (near.empty() ? " (expected one of: " + joinNames(allowed) + ")"
                             : " (did you mean '" + near + "'?)"),
           &origin);
    }
  }

  // A required key: UserError at the map when it is missing.
  YAML::Node require(const std::string &key, const std::string &why = "") const {
    const Entry *e = find(key);
    if (!e)
      fail(ctx_, node_, path_, "missing required key '" + key + "'" + why);
    return e->value;
  }

private:
  struct Entry {
    std::string key;
    YAML::Node keyNode;
    YAML::Node value;
  };
  const Entry *find(const std::string &key) const {
    for (const auto &e : entries_)
      if (e.key == key)
        return &e;
    return nullptr;
  }

  Ctx &ctx_;
  YAML::Node node_;
  std::string path_;
  std::vector<Entry> entries_;
};

// ---------------------------------------------------------------------------------
// Paths

bool isFieldName(const std::string &s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

void substitute(std::string &s, const std::string &model) {
  for (size_t at; (at = s.find("{model}")) != std::string::npos;)
    s.replace(at, 7, model);
}

std::string readPath(Ctx &ctx, const YAML::Node &n, const std::string &path, bool allowEmpty) {
  std::string s = readString(ctx, n, path);
  if (s.empty()) {
    if (allowEmpty)
      return s;
    fail(ctx, n, path, "the path is empty");
  }
  for (size_t at = s.find('{'); at != std::string::npos; at = s.find('{', at + 1))
    if (s.compare(at, 7, "{model}") != 0)
      fail(ctx, n, path, "unknown placeholder in '" + s + "' (only {model} is substituted)");
  fs::path p(s);
  if (p.is_relative())
    p = ctx.baseDir / p;
  return p.lexically_normal().string();
}

// ---------------------------------------------------------------------------------
// Sections

const std::vector<std::pair<const char *, DataFormat>> kFormats = {
    {"idx", DataFormat::Idx},
    {"csv", DataFormat::Csv},
    {"npy", DataFormat::Npy},
    {"synthetic", DataFormat::Synthetic}};

FieldTransform readTransform(Ctx &ctx, const MapView &m) {
  m.checkKeys({"scale", "shift", "flatten", "dtype"});
  FieldTransform t;
  if (m.has("scale"))
    t.scale = readNumber(ctx, m.get("scale"), m.childPath("scale"));
  if (m.has("shift"))
    t.shift = readNumber(ctx, m.get("shift"), m.childPath("shift"));
  if (m.has("flatten"))
    t.flatten = readBool(ctx, m.get("flatten"), m.childPath("flatten"));
  if (m.has("dtype")) {
    YAML::Node n = m.get("dtype");
    std::string p = m.childPath("dtype");
    std::string s = readString(ctx, n, p);
    if (s != "auto") {
      auto dt = parseDType(s);
      if (!dt ||
          !(*dt == DType::F32 || *dt == DType::F64 || *dt == DType::I32 || *dt == DType::I64))
        fail(ctx, n, p, "unknown dtype '" + s + "' (expected auto, f32, f64, i32, i64)");
      t.dtype = dt;
    }
  }
  if (t.dtype && !isFloat(*t.dtype) && t.rescales())
    fail(ctx, m.node(), m.path(),
         std::string("scale/shift need a float dtype, not ") + dtypeName(*t.dtype));
  return t;
}

CsvSpec readCsvSpec(Ctx &ctx, const MapView &m) {
  m.checkKeys({"path", "header", "delimiter", "columns"});
  CsvSpec c;
  c.path = readPath(ctx, m.require("path"), m.childPath("path"), false);
  if (m.has("header"))
    c.header = readBool(ctx, m.get("header"), m.childPath("header"));
  if (m.has("delimiter")) {
    YAML::Node n = m.get("delimiter");
    std::string s = readString(ctx, n, m.childPath("delimiter"));
    if (s.size() != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r')
      fail(ctx, n, m.childPath("delimiter"),
           "expected one character other than a quote or newline, got '" + s + "'");
    c.delimiter = s[0];
  }
  MapView cols(ctx, m.require("columns"), m.childPath("columns"));
  if (cols.keys().empty())
    fail(ctx, cols.node(), cols.path(), "no columns selected");
  for (const std::string &field : cols.keys()) {
    YAML::Node n = cols.get(field);
    std::string p = cols.childPath(field);
    if (!isFieldName(field))
      fail(ctx, n, p, "field names must be identifiers (letters, digits, _)");
    CsvColumns cc;
    if (n.IsSequence()) {
      if (n.size() == 0)
        fail(ctx, n, p, "the column list is empty");
      record(ctx, n, p);
      for (size_t i = 0; i < n.size(); ++i)
        cc.indices.push_back(readIntAtLeast(ctx, n[i], p + "[" + std::to_string(i) + "]", 0));
    } else {
      cc.single = true;
      cc.indices.push_back(readIntAtLeast(ctx, n, p, 0));
    }
    c.columns[field] = cc;
  }
  return c;
}

SyntheticSpec readSynthetic(Ctx &ctx, const MapView &m, uint64_t runSeed) {
  m.checkKeys({"kind", "samples", "classes", "features", "seed"});
  SyntheticSpec s;
  s.kind = readEnum<SyntheticKind>(ctx, m.require("kind"), m.childPath("kind"), "kind",
                                   {{"blobs", SyntheticKind::Blobs},
                                    {"spirals", SyntheticKind::Spirals},
                                    {"random", SyntheticKind::Random}});
  s.seed = runSeed;
  if (m.has("samples"))
    s.samples = readIntAtLeast(ctx, m.get("samples"), m.childPath("samples"), 1);
  if (m.has("classes"))
    s.classes = readIntAtLeast(ctx, m.get("classes"), m.childPath("classes"), 1);
  if (m.has("features")) {
    YAML::Node n = m.get("features");
    s.features = readIntAtLeast(ctx, n, m.childPath("features"), 1);
    if (s.kind == SyntheticKind::Spirals && s.features != 2)
      fail(ctx, n, m.childPath("features"), "spirals are 2-d; features must be 2");
  }
  if (m.has("seed"))
    s.seed = readSeed(ctx, m.get("seed"), m.childPath("seed"));
  // 2^31 floats (8 GiB) is far past any synthetic example and keeps int math safe.
  if (s.samples > (int64_t(1) << 31) / s.features)
    fail(ctx, m.node(), m.path(),
         "samples * features must be at most 2^31, got " + std::to_string(s.samples) + " * " +
             std::to_string(s.features));
  return s;
}

DataSource readSource(Ctx &ctx, const MapView &m, uint64_t runSeed,
                      const std::map<std::string, std::string> &extraMisplaced = {}) {
  DataSource src;
  src.keyPath = m.path();
  src.loc = locOf(ctx, m.node());
  src.format =
      readEnum<DataFormat>(ctx, m.require("format"), m.childPath("format"), "format", kFormats);
  const char *fmt = formatName(src.format);
  std::vector<std::string> allowed = {"format", "transform", "limit"};
  std::map<std::string, std::string> misplaced = extraMisplaced;
  if (src.format == DataFormat::Csv) {
    allowed.push_back("csv");
    misplaced["fields"] = "csv sources name their fields in csv.columns";
  } else {
    allowed.push_back("fields");
    misplaced["csv"] = std::string("only used with format: csv (this source is ") + fmt + ")";
  }
  if (src.format == DataFormat::Synthetic)
    allowed.push_back("synthetic");
  else
    misplaced["synthetic"] =
        std::string("only used with format: synthetic (this source is ") + fmt + ")";
  m.checkKeys(allowed, misplaced);

  std::vector<std::string> fieldNames;
  switch (src.format) {
  case DataFormat::Idx:
  case DataFormat::Npy: {
    MapView f(ctx, m.require("fields", " (field name -> file)"), m.childPath("fields"));
    if (f.keys().empty())
      fail(ctx, f.node(), f.path(), "no fields given");
    for (const std::string &name : f.keys()) {
      if (!isFieldName(name))
        fail(ctx, f.get(name), f.childPath(name),
             "field names must be identifiers (letters, digits, _)");
      src.fields[name] = readPath(ctx, f.get(name), f.childPath(name), false);
    }
    break;
  }
  case DataFormat::Csv:
    src.csv = readCsvSpec(ctx, MapView(ctx, m.require("csv"), m.childPath("csv")));
    for (const auto &c : src.csv.columns)
      fieldNames.push_back(c.first);
    break;
  case DataFormat::Synthetic: {
    src.synthetic =
        readSynthetic(ctx, MapView(ctx, m.require("synthetic"), m.childPath("synthetic")), runSeed);
    src.fields = {{"x", "x"}, {"label", "label"}};
    if (m.has("fields")) {
      MapView f(ctx, m.get("fields"), m.childPath("fields"));
      if (f.keys().empty())
        fail(ctx, f.node(), f.path(), "no fields given");
      src.fields.clear();
      for (const std::string &name : f.keys()) {
        if (!isFieldName(name))
          fail(ctx, f.get(name), f.childPath(name),
               "field names must be identifiers (letters, digits, _)");
        src.fields[name] =
            readEnum<std::string>(ctx, f.get(name), f.childPath(name), "synthetic part",
                                  {{"x", "x"}, {"label", "label"}});
      }
    }
    break;
  }
  }
  if (src.format != DataFormat::Csv)
    for (const auto &f : src.fields)
      fieldNames.push_back(f.first);

  if (m.has("transform")) {
    MapView t(ctx, m.get("transform"), m.childPath("transform"));
    for (const std::string &field : t.keys()) {
      if (std::find(fieldNames.begin(), fieldNames.end(), field) == fieldNames.end()) {
        std::string near = closestMatch(field, fieldNames);
        fail(ctx, t.get(field), t.childPath(field),
             "no field '" + field + "' in this source (fields: " + joinNames(fieldNames) + ")" +
                 (near.empty() ? "" : "; did you mean '" + near + "'?"));
      }
      src.transform[field] = readTransform(ctx, MapView(ctx, t.get(field), t.childPath(field)));
    }
  }
  if (m.has("limit"))
    src.limit = readIntAtLeast(ctx, m.get("limit"), m.childPath("limit"), 0);
  return src;
}

DataConfig readData(Ctx &ctx, const MapView &m, uint64_t runSeed) {
  m.checkKeys({"batch_size", "shuffle", "drop_last", "prefetch", "train", "validation", "test"});
  DataConfig d;
  if (m.has("batch_size"))
    d.batchSize = readIntAtLeast(ctx, m.get("batch_size"), m.childPath("batch_size"), 1);
  if (m.has("shuffle"))
    d.shuffle = readBool(ctx, m.get("shuffle"), m.childPath("shuffle"));
  if (m.has("drop_last"))
    d.dropLast = readBool(ctx, m.get("drop_last"), m.childPath("drop_last"));
  if (m.has("prefetch")) {
    YAML::Node n = m.get("prefetch");
    d.prefetch = readIntAtLeast(ctx, n, m.childPath("prefetch"), 0);
    if (d.prefetch > 64)
      fail(ctx, n, m.childPath("prefetch"), "must be <= 64, got " + std::to_string(d.prefetch));
  }
  d.train = readSource(ctx, MapView(ctx, m.require("train"), m.childPath("train")), runSeed);
  if (m.has("validation")) {
    MapView v(ctx, m.get("validation"), m.childPath("validation"));
    if (v.has("split")) {
      const char *why = "a validation split cannot be combined with a source";
      v.checkKeys({"split", "shuffle"}, {{"format", why},
                                         {"fields", why},
                                         {"csv", why},
                                         {"synthetic", why},
                                         {"transform", why},
                                         {"limit", why}});
      d.validation.kind = ValidationConfig::Kind::Split;
      d.validation.split =
          readNumberIn(ctx, v.get("split"), v.childPath("split"), 0, true, 1, true, "in (0, 1)");
      if (v.has("shuffle"))
        d.validation.shuffle = readBool(ctx, v.get("shuffle"), v.childPath("shuffle"));
    } else if (v.has("format")) {
      d.validation.kind = ValidationConfig::Kind::Source;
      d.validation.source =
          readSource(ctx, v, runSeed, {{"shuffle", "'shuffle' applies to a split, not a source"}});
    } else {
      fail(ctx, v.node(), v.path(), "expected {split: FRACTION} or a data source with a format");
    }
  }
  if (m.has("test"))
    d.test = readSource(ctx, MapView(ctx, m.get("test"), m.childPath("test")), runSeed);
  return d;
}

OptimizerConfig readOptimizer(Ctx &ctx, const MapView &m) {
  OptimizerConfig o;
  if (m.has("type"))
    o.type = readEnum<OptimizerType>(ctx, m.get("type"), m.childPath("type"), "optimizer",
                                     {{"sgd", OptimizerType::Sgd},
                                      {"adam", OptimizerType::Adam},
                                      {"adamw", OptimizerType::AdamW}});
  const char *name = optimizerName(o.type);
  if (o.type == OptimizerType::Sgd) {
    std::string why = "used by adam and adamw, not sgd";
    m.checkKeys({"type", "lr", "momentum", "nesterov", "weight_decay"},
                {{"betas", why}, {"eps", why}});
  } else {
    std::string why = std::string("used by sgd, not ") + name;
    m.checkKeys({"type", "lr", "betas", "eps", "weight_decay"},
                {{"momentum", why}, {"nesterov", why}});
    o.lr = 0.001;
    if (o.type == OptimizerType::AdamW)
      o.weightDecay = 0.01;
  }
  if (m.has("lr"))
    o.lr = readNumberIn(ctx, m.get("lr"), m.childPath("lr"), 0, true, kInf, true, "> 0");
  if (m.has("weight_decay"))
    o.weightDecay = readNumberIn(ctx, m.get("weight_decay"), m.childPath("weight_decay"), 0, false,
                                 kInf, true, ">= 0");
  if (m.has("momentum"))
    o.momentum = readNumberIn(ctx, m.get("momentum"), m.childPath("momentum"), 0, false, 1, true,
                              "in [0, 1)");
  if (m.has("nesterov")) {
    o.nesterov = readBool(ctx, m.get("nesterov"), m.childPath("nesterov"));
    if (o.nesterov && o.momentum == 0.0)
      fail(ctx, m.get("nesterov"), m.childPath("nesterov"), "nesterov needs momentum > 0");
  }
  if (m.has("betas")) {
    YAML::Node n = m.get("betas");
    std::string p = m.childPath("betas");
    if (!n.IsSequence() || n.size() != 2)
      fail(ctx, n, p, "expected a list of two numbers [beta1, beta2], got " + describe(n));
    record(ctx, n, p);
    for (size_t i = 0; i < 2; ++i)
      o.betas[i] = readNumberIn(ctx, n[i], p + "[" + std::to_string(i) + "]", 0, false, 1, true,
                                "in [0, 1)");
  }
  if (m.has("eps"))
    o.eps = readNumberIn(ctx, m.get("eps"), m.childPath("eps"), 0, true, kInf, true, "> 0");
  return o;
}

ScheduleConfig readSchedule(Ctx &ctx, const MapView &m, const OptimizerConfig &opt,
                            const std::string &lrPath) {
  ScheduleConfig s;
  if (m.has("type"))
    s.type = readEnum<ScheduleType>(ctx, m.get("type"), m.childPath("type"), "schedule",
                                    {{"constant", ScheduleType::Constant},
                                     {"step", ScheduleType::Step},
                                     {"multistep", ScheduleType::MultiStep},
                                     {"cosine", ScheduleType::Cosine},
                                     {"poly", ScheduleType::Poly}});
  // Each parameter names the schedule types that use it; others reject it.
  const std::vector<std::pair<std::string, std::vector<ScheduleType>>> params = {
      {"step_size", {ScheduleType::Step}},
      {"gamma", {ScheduleType::Step, ScheduleType::MultiStep}},
      {"milestones", {ScheduleType::MultiStep}},
      {"power", {ScheduleType::Poly}},
      {"min_lr", {ScheduleType::Cosine, ScheduleType::Poly}}};
  std::vector<std::string> allowed = {"type", "warmup_steps"};
  std::map<std::string, std::string> misplaced;
  for (const auto &[key, types] : params) {
    if (std::find(types.begin(), types.end(), s.type) != types.end()) {
      allowed.push_back(key);
      continue;
    }
    std::string users;
    for (ScheduleType t : types)
      users += (users.empty() ? "" : " and ") + std::string(scheduleName(t));
    misplaced[key] = std::string("used by schedule ") + users + ", not " + scheduleName(s.type);
  }
  m.checkKeys(allowed, misplaced);

  if (m.has("warmup_steps"))
    s.warmupSteps = readIntAtLeast(ctx, m.get("warmup_steps"), m.childPath("warmup_steps"), 0);
  if (s.type == ScheduleType::Step)
    s.stepSize = readIntAtLeast(ctx, m.require("step_size", " for schedule step"),
                                m.childPath("step_size"), 1);
  if (m.has("gamma"))
    s.gamma = readNumberIn(ctx, m.get("gamma"), m.childPath("gamma"), 0, true, kInf, true, "> 0");
  if (s.type == ScheduleType::MultiStep) {
    YAML::Node n = m.require("milestones", " for schedule multistep");
    std::string p = m.childPath("milestones");
    if (!n.IsSequence() || n.size() == 0)
      fail(ctx, n, p, "expected a non-empty list of steps, got " + describe(n));
    record(ctx, n, p);
    for (size_t i = 0; i < n.size(); ++i) {
      std::string ip = p + "[" + std::to_string(i) + "]";
      int64_t v = readIntAtLeast(ctx, n[i], ip, 1);
      if (!s.milestones.empty() && v <= s.milestones.back())
        fail(ctx, n[i], ip,
             "milestones must increase, got " + std::to_string(v) + " after " +
                 std::to_string(s.milestones.back()));
      s.milestones.push_back(v);
    }
  }
  if (m.has("power"))
    s.power = readNumberIn(ctx, m.get("power"), m.childPath("power"), 0, true, kInf, true, "> 0");
  if (m.has("min_lr")) {
    YAML::Node n = m.get("min_lr");
    s.minLr = readNumberIn(ctx, n, m.childPath("min_lr"), 0, false, kInf, true, ">= 0");
    if (s.minLr >= opt.lr) {
      std::ostringstream os;
      os << "must be below " << lrPath << " (" << opt.lr << "), got " << n.Scalar();
      fail(ctx, n, m.childPath("min_lr"), os.str());
    }
  }
  return s;
}

bool isPassName(const std::string &s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool isDevice(const std::string &s) {
  if (s == "auto" || s == "cpu" || s == "cuda")
    return true;
  if (s.compare(0, 5, "cuda:") != 0 || s.size() == 5 || s.size() > 8)
    return false;
  return std::all_of(s.begin() + 5, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

TrainConfig readConfig(Ctx &ctx, const YAML::Node &root) {
  TrainConfig cfg;
  cfg.file = ctx.file;
  ctx.locs = &cfg.locs;
  if (root.IsDefined() && !root.IsNull() && !root.IsMap())
    fail(ctx, root, "", "the config must be a map of keys, got " + describe(root));
  MapView m(ctx, root, "");
  m.checkKeys({"model", "device", "seed", "precision", "data", "optimizer", "schedule",
               "clip_grad_norm", "accumulate", "epochs", "steps", "eval_every", "eval_every_steps",
               "passes", "checkpoint", "log"});
  if (m.has("model"))
    cfg.model = readString(ctx, m.get("model"), "model");
  if (m.has("device")) {
    YAML::Node n = m.get("device");
    cfg.device = readString(ctx, n, "device");
    if (!isDevice(cfg.device))
      fail(ctx, n, "device",
           "unknown device '" + cfg.device + "' (expected auto, cpu, cuda, cuda:N)");
  }
  if (m.has("seed"))
    cfg.seed = readSeed(ctx, m.get("seed"), "seed");
  if (m.has("precision"))
    cfg.precision = readEnum<Precision>(
        ctx, m.get("precision"), "precision", "precision",
        {{"fp32", Precision::Fp32}, {"fp16", Precision::Fp16}, {"bf16", Precision::Bf16}});
  cfg.data = readData(ctx, MapView(ctx, m.require("data"), "data"), cfg.seed);
  cfg.optimizer = readOptimizer(ctx, MapView(ctx, m.get("optimizer"), "optimizer"));
  cfg.schedule =
      readSchedule(ctx, MapView(ctx, m.get("schedule"), "schedule"), cfg.optimizer, "optimizer.lr");
  if (m.has("clip_grad_norm"))
    cfg.clipGradNorm =
        readNumberIn(ctx, m.get("clip_grad_norm"), "clip_grad_norm", 0, false, kInf, true, ">= 0");
  if (m.has("accumulate"))
    cfg.accumulate = readIntAtLeast(ctx, m.get("accumulate"), "accumulate", 1);
  if (m.has("epochs") && m.has("steps"))
    fail(ctx, m.get("steps"), "steps", "epochs and steps are exclusive; give one of them");
  if (m.has("epochs"))
    cfg.epochs = readIntAtLeast(ctx, m.get("epochs"), "epochs", 1);
  if (m.has("steps")) {
    cfg.steps = readIntAtLeast(ctx, m.get("steps"), "steps", 1);
    cfg.epochs = 0;
  }
  if (m.has("eval_every"))
    cfg.evalEvery = readIntAtLeast(ctx, m.get("eval_every"), "eval_every", 0);
  if (m.has("eval_every_steps"))
    cfg.evalEverySteps = readIntAtLeast(ctx, m.get("eval_every_steps"), "eval_every_steps", 0);
  if (m.has("passes")) {
    YAML::Node n = m.get("passes");
    if (!n.IsNull()) {
      if (!n.IsSequence())
        fail(ctx, n, "passes", "expected a list of pass names, got " + describe(n));
      record(ctx, n, "passes");
      for (size_t i = 0; i < n.size(); ++i) {
        std::string p = "passes[" + std::to_string(i) + "]";
        std::string s = readString(ctx, n[i], p);
        if (!isPassName(s))
          fail(ctx, n[i], p, "'" + s + "' is not a pass name (lower-case, digits, '-')");
        cfg.passes.push_back(s);
      }
    }
  }
  MapView ck(ctx, m.get("checkpoint"), "checkpoint");
  ck.checkKeys({"dir", "every", "every_steps", "keep"});
  cfg.checkpoint.dir = (ctx.baseDir / cfg.checkpoint.dir).lexically_normal().string();
  if (ck.has("dir"))
    cfg.checkpoint.dir = readPath(ctx, ck.get("dir"), "checkpoint.dir", false);
  if (ck.has("every"))
    cfg.checkpoint.every = readIntAtLeast(ctx, ck.get("every"), "checkpoint.every", 0);
  if (ck.has("every_steps"))
    cfg.checkpoint.everySteps =
        readIntAtLeast(ctx, ck.get("every_steps"), "checkpoint.every_steps", 0);
  if (ck.has("keep"))
    cfg.checkpoint.keep = readIntAtLeast(ctx, ck.get("keep"), "checkpoint.keep", 0);
  MapView lg(ctx, m.get("log"), "log");
  lg.checkKeys({"metrics", "progress"});
  cfg.log.metrics = (ctx.baseDir / cfg.log.metrics).lexically_normal().string();
  if (lg.has("metrics"))
    cfg.log.metrics = readPath(ctx, lg.get("metrics"), "log.metrics", true);
  if (lg.has("progress"))
    cfg.log.progress =
        readEnum<ProgressMode>(ctx, lg.get("progress"), "log.progress", "progress mode",
                               {{"auto", ProgressMode::Auto},
                                {"bar", ProgressMode::Bar},
                                {"plain", ProgressMode::Plain},
                                {"none", ProgressMode::None}});
  if (!cfg.model.empty())
    setModelName(cfg, cfg.model);
  return cfg;
}

// ---------------------------------------------------------------------------------
// Overrides

// A copy of `n` whose nodes carry no file position, so errors about them point at the
// --set assignment rather than at line 1 of some imaginary file.
YAML::Node unmarked(const YAML::Node &n) {
  switch (n.Type()) {
  case YAML::NodeType::Scalar:
    return YAML::Node(n.Scalar());
  case YAML::NodeType::Sequence: {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto &c : n)
      out.push_back(unmarked(c));
    return out;
  }
  case YAML::NodeType::Map: {
    YAML::Node out(YAML::NodeType::Map);
    for (auto it = n.begin(); it != n.end(); ++it)
      out[it->first.Scalar()] = unmarked(it->second);
    return out;
  }
  default:
    return YAML::Node(YAML::NodeType::Null);
  }
}

struct ParsedAssignment {
  std::vector<std::string> segments;
  std::string value;
};

ParsedAssignment splitAssignment(const std::string &a) {
  auto bad = [&](const std::string &why) -> UserError {
    return UserError("--set '" + a + "': " + why + " (expected key.path=value)");
  };
  size_t eq = a.find('=');
  if (eq == std::string::npos)
    throw bad("no '='");
  ParsedAssignment p;
  std::string key = a.substr(0, eq);
  p.value = a.substr(eq + 1);
  if (key.empty())
    throw bad("empty key");
  size_t start = 0;
  for (;;) {
    size_t dot = key.find('.', start);
    std::string seg = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (seg.empty())
      throw bad("empty key segment");
    if (!std::all_of(seg.begin(), seg.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
        }))
      throw bad("'" + seg + "' is not a key name");
    p.segments.push_back(seg);
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  if (p.value.find_first_not_of(" \t") == std::string::npos)
    throw bad("no value after '=' (write '' for an empty string)");
  return p;
}

bool isIndex(const std::string &s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string normalizedPath(const std::vector<std::string> &segments) {
  std::string p;
  for (const std::string &s : segments)
    p += isIndex(s) ? "[" + s + "]" : (p.empty() ? "" : ".") + s;
  return p;
}

} // namespace

void applyOverride(YAML::Node &root, const std::string &assignment) {
  ParsedAssignment p = splitAssignment(assignment);
  YAML::Node value;
  try {
    value = unmarked(YAML::Load(p.value));
  } catch (const YAML::Exception &e) {
    throw UserError("--set '" + assignment + "': cannot parse the value as YAML: " + e.msg);
  }
  if (root.IsDefined() && !root.IsNull() && !root.IsMap())
    throw UserError("--set '" + assignment + "': the config is not a map");
  YAML::Node cur = root;
  std::string walked;
  for (size_t i = 0; i < p.segments.size(); ++i) {
    const std::string &seg = p.segments[i];
    bool last = i + 1 == p.segments.size();
    walked += (walked.empty() ? "" : ".") + seg;
    if (cur.IsSequence()) {
      size_t idx = 0;
      bool ok = isIndex(seg) &&
                std::from_chars(seg.data(), seg.data() + seg.size(), idx).ec == std::errc() &&
                idx < cur.size();
      if (!ok)
        throw UserError("--set '" + assignment + "': '" + walked + "': " +
                        (cur.size() == 0
                             ? std::string("the list is empty")
                             : "the list has " + std::to_string(cur.size()) +
                                   " entries (indices 0.." + std::to_string(cur.size() - 1) + ")"));
      if (last)
        cur[idx] = value;
      else
        cur.reset(cur[idx]);
      continue;
    }
    if (cur.IsScalar())
      throw UserError("--set '" + assignment + "': '" +
                      walked.substr(0, walked.size() - seg.size() - 1) + "' is a value, not a map");
    if (last) {
      cur[seg] = value;
      break;
    }
    if (!cur[seg].IsDefined() || cur[seg].IsNull())
      cur[seg] = YAML::Node(YAML::NodeType::Map);
    // reset() rebinds `cur`; assigning to it would overwrite the parent's value.
    cur.reset(cur[seg]);
  }
}

TrainConfig parseConfig(const std::string &text, const std::string &file,
                        const std::vector<std::string> &overrides, const std::string &baseDir) {
  Ctx ctx;
  ctx.file = file;
  ctx.baseDir = baseDir.empty() ? fs::current_path() : fs::absolute(baseDir);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception &e) {
    throwAt(file, e.mark.line + 1, e.mark.column + 1, "invalid YAML: " + e.msg);
  }
  for (const std::string &o : overrides) {
    applyOverride(root, o);
    ctx.overrides.push_back(Override{normalizedPath(splitAssignment(o).segments), o});
  }
  return readConfig(ctx, root);
}

TrainConfig loadConfig(const std::string &path, const std::vector<std::string> &overrides) {
  std::vector<uint8_t> bytes = readFileBytes(path, false);
  fs::path dir = fs::absolute(path).parent_path();
  return parseConfig(std::string(bytes.begin(), bytes.end()), path, overrides, dir.string());
}

void setModelName(TrainConfig &cfg, const std::string &name) {
  if (cfg.model.empty())
    cfg.model = name;
  auto source = [&](DataSource &s) {
    if (s.format == DataFormat::Idx || s.format == DataFormat::Npy)
      for (auto &f : s.fields)
        substitute(f.second, cfg.model);
    substitute(s.csv.path, cfg.model);
  };
  source(cfg.data.train);
  if (cfg.data.validation.source)
    source(*cfg.data.validation.source);
  if (cfg.data.test)
    source(*cfg.data.test);
  substitute(cfg.checkpoint.dir, cfg.model);
  substitute(cfg.log.metrics, cfg.model);
}

// ---------------------------------------------------------------------------------
// Printing

namespace {

// Shortest text that reads back as the same double ("0.1", "1e-08").
std::string num(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void emitSource(YAML::Emitter &e, const DataSource &s) {
  e << YAML::BeginMap;
  e << YAML::Key << "format" << YAML::Value << formatName(s.format);
  if (s.format == DataFormat::Csv) {
    e << YAML::Key << "csv" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "path" << YAML::Value << YAML::DoubleQuoted << s.csv.path;
    e << YAML::Key << "header" << YAML::Value << (s.csv.header ? "true" : "false");
    e << YAML::Key << "delimiter" << YAML::Value << YAML::DoubleQuoted
      << std::string(1, s.csv.delimiter);
    e << YAML::Key << "columns" << YAML::Value << YAML::BeginMap;
    for (const auto &[field, c] : s.csv.columns) {
      e << YAML::Key << field << YAML::Value;
      if (c.single) {
        e << std::to_string(c.indices[0]);
      } else {
        e << YAML::Flow << YAML::BeginSeq;
        for (int64_t i : c.indices)
          e << std::to_string(i);
        e << YAML::EndSeq;
      }
    }
    e << YAML::EndMap << YAML::EndMap;
  } else {
    e << YAML::Key << "fields" << YAML::Value << YAML::BeginMap;
    for (const auto &[field, path] : s.fields)
      e << YAML::Key << field << YAML::Value << YAML::DoubleQuoted << path;
    e << YAML::EndMap;
  }
  if (s.format == DataFormat::Synthetic) {
    const SyntheticSpec &y = s.synthetic;
    e << YAML::Key << "synthetic" << YAML::Value << YAML::Flow << YAML::BeginMap;
    e << YAML::Key << "kind" << YAML::Value << syntheticName(y.kind);
    e << YAML::Key << "samples" << YAML::Value << std::to_string(y.samples);
    e << YAML::Key << "classes" << YAML::Value << std::to_string(y.classes);
    e << YAML::Key << "features" << YAML::Value << std::to_string(y.features);
    e << YAML::Key << "seed" << YAML::Value << std::to_string(y.seed);
    e << YAML::EndMap;
  }
  if (!s.transform.empty()) {
    e << YAML::Key << "transform" << YAML::Value << YAML::BeginMap;
    for (const auto &[field, t] : s.transform) {
      e << YAML::Key << field << YAML::Value << YAML::Flow << YAML::BeginMap;
      e << YAML::Key << "scale" << YAML::Value << num(t.scale);
      e << YAML::Key << "shift" << YAML::Value << num(t.shift);
      e << YAML::Key << "flatten" << YAML::Value << (t.flatten ? "true" : "false");
      e << YAML::Key << "dtype" << YAML::Value << (t.dtype ? dtypeName(*t.dtype) : "auto");
      e << YAML::EndMap;
    }
    e << YAML::EndMap;
  }
  e << YAML::Key << "limit" << YAML::Value << std::to_string(s.limit);
  e << YAML::EndMap;
}

} // namespace

std::string printConfig(const TrainConfig &c) {
  YAML::Emitter e;
  auto kv = [&](const char *key, const std::string &value) {
    e << YAML::Key << key << YAML::Value << value;
  };
  auto kq = [&](const char *key, const std::string &value) {
    e << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
  };
  auto kb = [&](const char *key, bool value) { kv(key, value ? "true" : "false"); };
  e << YAML::BeginMap;
  kq("model", c.model);
  kq("device", c.device);
  kv("seed", std::to_string(c.seed));
  kv("precision", precisionName(c.precision));

  e << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  kv("batch_size", std::to_string(c.data.batchSize));
  kb("shuffle", c.data.shuffle);
  kb("drop_last", c.data.dropLast);
  kv("prefetch", std::to_string(c.data.prefetch));
  e << YAML::Key << "train" << YAML::Value;
  emitSource(e, c.data.train);
  const ValidationConfig &v = c.data.validation;
  if (v.kind == ValidationConfig::Kind::Split) {
    e << YAML::Key << "validation" << YAML::Value << YAML::Flow << YAML::BeginMap;
    kv("split", num(v.split));
    kb("shuffle", v.shuffle);
    e << YAML::EndMap;
  } else if (v.kind == ValidationConfig::Kind::Source) {
    e << YAML::Key << "validation" << YAML::Value;
    emitSource(e, *v.source);
  }
  if (c.data.test) {
    e << YAML::Key << "test" << YAML::Value;
    emitSource(e, *c.data.test);
  }
  e << YAML::EndMap;

  const OptimizerConfig &o = c.optimizer;
  e << YAML::Key << "optimizer" << YAML::Value << YAML::BeginMap;
  kv("type", optimizerName(o.type));
  kv("lr", num(o.lr));
  if (o.type == OptimizerType::Sgd) {
    kv("momentum", num(o.momentum));
    kb("nesterov", o.nesterov);
  } else {
    e << YAML::Key << "betas" << YAML::Value << YAML::Flow << YAML::BeginSeq << num(o.betas[0])
      << num(o.betas[1]) << YAML::EndSeq;
    kv("eps", num(o.eps));
  }
  kv("weight_decay", num(o.weightDecay));
  e << YAML::EndMap;

  const ScheduleConfig &s = c.schedule;
  e << YAML::Key << "schedule" << YAML::Value << YAML::BeginMap;
  kv("type", scheduleName(s.type));
  kv("warmup_steps", std::to_string(s.warmupSteps));
  if (s.type == ScheduleType::Step)
    kv("step_size", std::to_string(s.stepSize));
  if (s.type == ScheduleType::Step || s.type == ScheduleType::MultiStep)
    kv("gamma", num(s.gamma));
  if (s.type == ScheduleType::MultiStep) {
    e << YAML::Key << "milestones" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (int64_t m : s.milestones)
      e << std::to_string(m);
    e << YAML::EndSeq;
  }
  if (s.type == ScheduleType::Poly)
    kv("power", num(s.power));
  if (s.type == ScheduleType::Cosine || s.type == ScheduleType::Poly)
    kv("min_lr", num(s.minLr));
  e << YAML::EndMap;

  kv("clip_grad_norm", num(c.clipGradNorm));
  kv("accumulate", std::to_string(c.accumulate));
  if (c.steps > 0)
    kv("steps", std::to_string(c.steps));
  else
    kv("epochs", std::to_string(c.epochs));
  kv("eval_every", std::to_string(c.evalEvery));
  kv("eval_every_steps", std::to_string(c.evalEverySteps));
  e << YAML::Key << "passes" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string &p : c.passes)
    e << p;
  e << YAML::EndSeq;

  e << YAML::Key << "checkpoint" << YAML::Value << YAML::BeginMap;
  kq("dir", c.checkpoint.dir);
  kv("every", std::to_string(c.checkpoint.every));
  kv("every_steps", std::to_string(c.checkpoint.everySteps));
  kv("keep", std::to_string(c.checkpoint.keep));
  e << YAML::EndMap;
  e << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  kq("metrics", c.log.metrics);
  kv("progress", progressName(c.log.progress));
  e << YAML::EndMap;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

double learningRate(const OptimizerConfig &opt, const ScheduleConfig &s, int64_t step,
                    int64_t totalSteps) {
  double lr = opt.lr;
  double p = 0;
  if (totalSteps > s.warmupSteps)
    p = std::clamp(static_cast<double>(step - s.warmupSteps) /
                       static_cast<double>(totalSteps - s.warmupSteps),
                   0.0, 1.0);
  switch (s.type) {
  case ScheduleType::Constant:
    break;
  case ScheduleType::Step:
    NNG_CHECK(s.stepSize > 0, "schedule step without step_size");
    lr *= std::pow(s.gamma, static_cast<double>(step / s.stepSize)); // floor(step / size)
    break;
  case ScheduleType::MultiStep: {
    auto passed =
        std::upper_bound(s.milestones.begin(), s.milestones.end(), step) - s.milestones.begin();
    lr *= std::pow(s.gamma, static_cast<double>(passed));
    break;
  }
  case ScheduleType::Cosine:
    lr = s.minLr + (lr - s.minLr) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * p));
    break;
  case ScheduleType::Poly:
    lr = s.minLr + (lr - s.minLr) * std::pow(1.0 - p, s.power);
    break;
  }
  if (step < s.warmupSteps)
    lr *= static_cast<double>(step + 1) / static_cast<double>(s.warmupSteps);
  return lr;
}

} // namespace nng
