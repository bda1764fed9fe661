// FileName: the interned file name a SourceLoc carries. Every value and node of the graph
// keeps a SourceLoc and the front end and passes copy them constantly; with the name held
// as a std::string, each copy of a path longer than the small-string buffer was a heap
// allocation (a quarter of the allocations compiling a 100,000-node model). A FileName is one
// pointer into a process-wide table that stores each distinct name once and never frees
// it, so a copy is a pointer copy and equality is a pointer comparison.
#pragma once

#include <iosfwd>
#include <string>

namespace nng {

class FileName {
public:
  FileName() = default; // the empty name
  // Interning takes a lock and a hash lookup: intern a name once per file (a parse, a
  // config) and copy the FileName, rather than converting from a string per location.
  FileName(const std::string &name); // NOLINT: implicit, a file name is written as a string
  FileName(const char *name);        // NOLINT

  const std::string &str() const { return name_ ? *name_ : emptyName(); }
  operator const std::string &() const { return str(); } // NOLINT: reads as the string
  bool empty() const { return name_ == nullptr; }

  // One entry per distinct name, so equal names are the same entry.
  friend bool operator==(FileName a, FileName b) { return a.name_ == b.name_; }
  friend bool operator!=(FileName a, FileName b) { return a.name_ != b.name_; }
  friend bool operator==(FileName a, const std::string &b) { return a.str() == b; }
  friend bool operator!=(FileName a, const std::string &b) { return a.str() != b; }
  friend bool operator==(const std::string &a, FileName b) { return a == b.str(); }
  friend bool operator!=(const std::string &a, FileName b) { return a != b.str(); }
  friend bool operator==(FileName a, const char *b) { return a.str() == b; }
  friend bool operator!=(FileName a, const char *b) { return a.str() != b; }
  friend bool operator==(const char *a, FileName b) { return a == b.str(); }
  friend bool operator!=(const char *a, FileName b) { return a != b.str(); }

private:
  static const std::string &emptyName();
  const std::string *name_ = nullptr; // the table's entry; null for the empty name
};

std::ostream &operator<<(std::ostream &os, FileName name);

} // namespace nng
