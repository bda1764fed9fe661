// User-facing diagnostics: located error messages collected during a run and
// printed once, in the `file:line:col: error: ...` form with the source line and
// a caret. Internal invariant failures are not diagnostics; they use NNG_CHECK.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/diag/file_name.h"

namespace nng {

struct SourceLoc {
  FileName file; // as the user named it ("-" or "<stdin>" for standard input)
  int line = 0;  // 1-based; 0 means "no location"
  int col = 0;   // 1-based

  bool valid() const { return line > 0; }
  std::string str() const; // "file:line:col"
};

struct Diagnostic {
  SourceLoc loc;
  std::string message;
  // Extra lines printed after the caret, e.g. the block call chain:
  // "in block 'residual' called at model.nn:12:9".
  std::vector<std::string> notes;
};

// Thrown for errors the user caused; caught by the CLI, printed, exit code 1.
class UserError : public std::runtime_error {
public:
  explicit UserError(Diagnostic d) : std::runtime_error(d.message), diag_(std::move(d)) {}
  explicit UserError(const std::string &message) : UserError(unlocated(message)) {}
  const Diagnostic &diagnostic() const { return diag_; }

private:
  static Diagnostic unlocated(const std::string &message) {
    Diagnostic d;
    d.message = message;
    return d;
  }
  Diagnostic diag_;
};

// Collects diagnostics and remembers source text so errors can quote the line.
class DiagnosticSink {
public:
  void addSource(const std::string &file, const std::string &text) { sources_[file] = text; }
  void error(const SourceLoc &loc, const std::string &message,
             std::vector<std::string> notes = {});
  void add(Diagnostic d) { diags_.push_back(std::move(d)); }

  bool hasErrors() const { return !diags_.empty(); }
  const std::vector<Diagnostic> &diagnostics() const { return diags_; }

  // Renders one diagnostic: location, message, quoted source line, caret, notes.
  std::string format(const Diagnostic &d) const;
  std::string formatAll() const;

  // Past this many errors the front end stops; later ones are usually noise.
  static constexpr size_t kMaxErrors = 20;

private:
  std::map<std::string, std::string> sources_;
  std::vector<Diagnostic> diags_;
};

// Levenshtein distance; used for "did you mean" suggestions.
size_t editDistance(const std::string &a, const std::string &b);
// The closest candidate within a distance that scales with the name's length, or "".
std::string closestMatch(const std::string &name, const std::vector<std::string> &candidates);

// Internal invariant: aborts with file:line. Never used for user input.
[[noreturn]] void checkFailed(const char *file, int line, const char *cond, const std::string &msg);
#define NNG_CHECK(cond, msg)                                                                       \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::nng::checkFailed(__FILE__, __LINE__, #cond, (msg));                                        \
  } while (0)

} // namespace nng
