// Formatting of user diagnostics and the "did you mean" helpers.
#include "core/diag/diagnostic.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace nng {

std::string SourceLoc::str() const {
  std::ostringstream os;
  os << file << ":" << line << ":" << col;
  return os.str();
}

void DiagnosticSink::error(const SourceLoc &loc, const std::string &message,
                           std::vector<std::string> notes) {
  diags_.push_back(Diagnostic{loc, message, std::move(notes)});
}

static std::string lineOf(const std::string &text, int line) {
  size_t pos = 0;
  for (int i = 1; i < line; ++i) {
    pos = text.find('\n', pos);
    if (pos == std::string::npos)
      return "";
    ++pos;
  }
  size_t end = text.find('\n', pos);
  std::string s = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
  if (!s.empty() && s.back() == '\r')
    s.pop_back();
  return s;
}

// Quoted source lines are made printable so binary input cannot garble a terminal.
static std::string printable(const std::string &s) {
  std::string out;
  for (unsigned char c : s)
    out += (c == '\t' || (c >= 0x20 && c < 0x7f)) ? static_cast<char>(c) : '?';
  return out.size() > 200 ? out.substr(0, 200) + "..." : out;
}

std::string DiagnosticSink::format(const Diagnostic &d) const {
  std::ostringstream os;
  if (d.loc.valid())
    os << d.loc.str() << ": error: " << d.message << "\n";
  else if (!d.loc.file.empty())
    os << d.loc.file << ": error: " << d.message << "\n";
  else
    os << "nng: error: " << d.message << "\n";
  auto it = sources_.find(d.loc.file);
  if (d.loc.valid() && it != sources_.end()) {
    std::string src = printable(lineOf(it->second, d.loc.line));
    if (!src.empty()) {
      os << "  " << src << "\n  ";
      for (int i = 1; i < d.loc.col && i <= static_cast<int>(src.size()); ++i)
        os << (src[i - 1] == '\t' ? '\t' : ' ');
      os << "^\n";
    }
  }
  for (const auto &n : d.notes)
    os << "  note: " << n << "\n";
  return os.str();
}

std::string DiagnosticSink::formatAll() const {
  std::string out;
  for (const auto &d : diags_)
    out += format(d);
  return out;
}

// Optimal string alignment distance: insertions, deletions, substitutions and
// transpositions of neighbours ("alpah" -> "alpha") each cost 1.
size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string closestMatch(const std::string &name, const std::vector<std::string> &candidates) {
  // One edit per three characters; a one-letter name is too short to guess from.
  size_t limit = (name.size() + 1) / 3;
  if (limit == 0)
    return "";
  std::string best;
  size_t bestDist = limit + 1;
  for (const auto &c : candidates) {
    size_t d = editDistance(name, c);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return best;
}

void checkFailed(const char *file, int line, const char *cond, const std::string &msg) {
  std::fprintf(stderr, "nng: internal error at %s:%d: check '%s' failed: %s\n", file, line, cond,
               msg.c_str());
  std::abort();
}

} // namespace nng
