// The intern table behind FileName.
#include "core/diag/file_name.h"

#include <mutex>
#include <ostream>
#include <unordered_set>

namespace nng {

// The table is never destroyed, so a FileName stays valid in static destructors and at
// exit. The set's nodes do not move when it rehashes: an entry's address is fixed once
// inserted.
static const std::string *intern(const std::string &name) {
  if (name.empty())
    return nullptr;
  static std::mutex mutex;
  static auto *table = new std::unordered_set<std::string>;
  std::lock_guard<std::mutex> lock(mutex);
  return &*table->insert(name).first;
}

FileName::FileName(const std::string &name) : name_(intern(name)) {}
FileName::FileName(const char *name) : name_(intern(name)) {}

const std::string &FileName::emptyName() {
  static const std::string *empty = new std::string;
  return *empty;
}

std::ostream &operator<<(std::ostream &os, FileName name) { return os << name.str(); }

} // namespace nng
