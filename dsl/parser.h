// Text -> AST. Wraps the ANTLR-generated lexer and parser: syntax errors become located
// Diagnostics ("expected ';', found '}'"), and the input is bounded before ANTLR sees it
// (size, token count, nesting depth) so no input can exhaust memory or the stack.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "core/diag/diagnostic.h"
#include "dsl/ast.h"

namespace nng::dsl {

// Limits on one source file.
constexpr size_t kMaxSourceBytes = size_t(64) << 20;
constexpr size_t kMaxTokens = 2000000;
// Brackets, braces and unary minus signs open levels; ANTLR's recursive descent (and the
// tree walks after it) recurse once or a few times per level.
constexpr int kMaxNesting = 256;

// Parses `text`; `file` is the name diagnostics use. Registers the text with the sink
// (so errors quote the line) and reports every problem there. Returns nullopt when any
// error was reported: lowering only ever sees a complete tree.
std::optional<ast::File> parseSource(const std::string &file, const std::string &text,
                                     DiagnosticSink &sink);

// The two ways parseSource parses, for tests that compare them. parseSourceFast is a
// hand-written lexer and parser that accepts only error-free input (nullopt, and nothing
// reported, for anything else); parseSourceWithAntlr parses any input with the generated
// parser and reports every problem. Where the fast path accepts, both build the same AST.
std::optional<ast::File> parseSourceFast(const std::string &file, const std::string &text);
std::optional<ast::File> parseSourceWithAntlr(const std::string &file, const std::string &text,
                                              DiagnosticSink &sink);

} // namespace nng::dsl
