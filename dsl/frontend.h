// The public face of the language front end: source text in, verified Graphs out.
// Everything the user can get wrong is reported to a DiagnosticSink with its location;
// these functions never throw for bad source (readSource throws UserError for a file
// that cannot be read).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/diag/diagnostic.h"
#include "core/ir/graph.h"

namespace nng::dsl {

struct Source {
  std::string path; // "-" means stdin; diagnostics then use "<stdin>"
  std::string text;
  bool fromStdin = false;
};

// Parses the source (imports are read from disk relative to the importing file), lowers
// the chosen model (modelName empty: the only model, or the last one) and runs verify().
// Errors go to `sink`; nullopt on error.
std::optional<Graph> loadModel(const Source &src, const std::string &modelName,
                               DiagnosticSink &sink);

// Lowers every model of the file (for `nng check`); empty on error (sink has the errors).
// A file that holds only consts and blocks gives an empty vector and no error.
std::vector<Graph> loadAllModels(const Source &src, DiagnosticSink &sink);

// Reads a file, or stdin for "-". Throws UserError
// "cannot read 'x': No such file or directory" (or the system's reason).
Source readSource(const std::string &path);

} // namespace nng::dsl
