// The front end's entry points: read a source, load it with its imports, pick and lower
// models.
#include "dsl/frontend.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "dsl/lower.h"
#include "dsl/parser.h"

namespace nng::dsl {

namespace {

// Reads at most kMaxSourceBytes; a longer input is an error rather than a huge buffer.
bool readLimited(std::istream &in, std::string &out) {
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > kMaxSourceBytes)
      return false;
  }
  return true;
}

const ast::Model *chooseModel(const Program &prog, const std::string &name,
                              DiagnosticSink &sink) {
  SourceLoc where{prog.mainFile(), 0, 0};
  if (!name.empty()) {
    if (const ast::Model *m = prog.findModel(name))
      return m;
    std::string msg = "no model named '" + name + "'";
    std::string near = closestMatch(name, prog.modelNames());
    if (!near.empty())
      msg += "; did you mean '" + near + "'?";
    sink.error(where, msg);
    return nullptr;
  }
  if (prog.models().empty()) {
    sink.error(where, "no model in this file");
    return nullptr;
  }
  return prog.models().back();
}

} // namespace

Source readSource(const std::string &path) {
  Source src;
  src.path = path;
  const std::string tooLarge = "cannot read '" + path + "': larger than " +
                               std::to_string(kMaxSourceBytes >> 20) + " MiB";
  if (path == "-") {
    src.fromStdin = true;
    if (!readLimited(std::cin, src.text))
      throw UserError(tooLarge);
    return src;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw UserError("cannot read '" + path + "': " + std::strerror(EISDIR));
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw UserError("cannot read '" + path + "': " + std::strerror(errno ? errno : ENOENT));
  if (!readLimited(in, src.text))
    throw UserError(tooLarge);
  if (in.bad())
    throw UserError("cannot read '" + path + "': " + std::strerror(errno ? errno : EIO));
  return src;
}

std::optional<Graph> loadModel(const Source &src, const std::string &modelName,
                               DiagnosticSink &sink) {
  Program prog;
  if (!prog.load(src, sink))
    return std::nullopt;
  const ast::Model *model = chooseModel(prog, modelName, sink);
  if (!model)
    return std::nullopt;
  return lowerModel(prog, *model, sink);
}

std::vector<Graph> loadAllModels(const Source &src, DiagnosticSink &sink) {
  Program prog;
  if (!prog.load(src, sink))
    return {};
  std::vector<Graph> out;
  bool failed = false;
  for (const ast::Model *m : prog.models()) {
    if (sink.diagnostics().size() >= DiagnosticSink::kMaxErrors)
      break;
    if (std::optional<Graph> g = lowerModel(prog, *m, sink))
      out.push_back(std::move(*g));
    else
      failed = true;
  }
  if (failed)
    out.clear();
  return out;
}

} // namespace nng::dsl
