// AST -> Graph. A Program holds every file of a source (the main file and what it
// imports) with their definitions in one namespace; lowerModel() turns one model into a
// Graph: blocks inlined, repeat unrolled, layer sugar expanded into named parameters and
// primitive ops, every node's type inferred and checked. frontend.h is the public entry;
// this header is for the front end and its tests.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/diag/diagnostic.h"
#include "core/ir/graph.h"
#include "dsl/ast.h"
#include "dsl/frontend.h"

namespace nng::dsl {

// Bounds that keep lowering finite on any input.
struct LowerLimits {
  int64_t maxRepeat = 10000;    // iterations of one `repeat`
  size_t maxNodes = 1000000;    // nodes in one model
  int64_t maxSteps = 10000000;  // statements run plus repeat iterations (empty loops too)
  size_t maxBlockCalls = 100000; // blocks inlined in one model
  size_t maxBlockDepth = 256;   // block calls inside block calls
  size_t maxImportDepth = 64;   // files importing files
};

// The layer sugar names (dense, conv2d, ...): calls that may create parameters.
const std::vector<std::string> &sugarNames();

class Program {
public:
  struct Const {
    bool isInt = true;
    int64_t i = 0;
    double f = 0.0;
    SourceLoc loc;
  };

  // Parses the source and everything it imports, folds the consts and checks the blocks.
  // Returns false when it reported errors.
  bool load(const Source &src, DiagnosticSink &sink, const LowerLimits &limits = {});

  const Const *findConst(const std::string &name) const;
  const ast::Block *findBlock(const std::string &name) const; // nullptr when absent
  bool blockValid(const std::string &name) const;
  std::vector<std::string> constNames() const;
  std::vector<std::string> blockNames() const;

  // Models of the main file; when it has none, the models of its imports.
  const std::vector<const ast::Model *> &models() const {
    return mainModels_.empty() ? allModels_ : mainModels_;
  }
  // Any model by name, imported ones included.
  const ast::Model *findModel(const std::string &name) const;
  std::vector<std::string> modelNames() const;
  const std::string &mainFile() const { return mainFile_; }

private:
  struct ImportFrame {
    std::string canonical, display;
    SourceLoc importLoc; // the import this file is processing
  };
  void loadFile(const std::string &display, const std::string &canonical,
                const std::string &text, std::vector<ImportFrame> &stack, bool isMain);
  void registerFile(const ast::File &file, bool isMain);
  bool define(const std::string &name, const SourceLoc &loc, const char *what);
  void checkBlock(const ast::Block &b);
  bool stopped() const;

  DiagnosticSink *sink_ = nullptr;
  LowerLimits limits_;
  std::string mainFile_;
  std::vector<std::unique_ptr<ast::File>> files_;
  std::set<std::string> started_; // canonical paths already loaded or loading
  std::map<std::string, SourceLoc> defined_;
  std::map<std::string, Const> consts_;
  std::map<std::string, const ast::Block *> blocks_;
  std::set<std::string> invalidBlocks_;
  std::vector<const ast::Model *> mainModels_, allModels_;
};

// Lowers one model of a loaded program and verifies the graph; nullopt when errors were
// reported (at most DiagnosticSink::kMaxErrors; lowering goes on after an error where the
// rest can still be checked, without repeating errors for values that depend on it).
std::optional<Graph> lowerModel(const Program &program, const ast::Model &model,
                                DiagnosticSink &sink, const LowerLimits &limits = {});

} // namespace nng::dsl
