// Attribute values carried by nodes (keyword arguments in the language):
// integers, floats, booleans, strings, bare names (act = relu, dtypes) and lists.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nng {

struct Attr {
  enum class Kind { Int, Float, Bool, String, Name, List };
  Kind kind = Kind::Int;
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
  std::string s; // String and Name
  std::vector<Attr> list;

  static Attr ofInt(int64_t v) { Attr a; a.kind = Kind::Int; a.i = v; return a; }
  static Attr ofFloat(double v) { Attr a; a.kind = Kind::Float; a.f = v; return a; }
  static Attr ofBool(bool v) { Attr a; a.kind = Kind::Bool; a.b = v; return a; }
  static Attr ofString(std::string v) { Attr a; a.kind = Kind::String; a.s = std::move(v); return a; }
  static Attr ofName(std::string v) { Attr a; a.kind = Kind::Name; a.s = std::move(v); return a; }
  static Attr ofList(std::vector<Attr> v) { Attr a; a.kind = Kind::List; a.list = std::move(v); return a; }

  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  double asDouble() const { return kind == Kind::Int ? static_cast<double>(i) : f; }
  std::vector<int64_t> asInts() const; // an Int list (or a single Int) as integers

  bool operator==(const Attr &o) const;
  bool operator!=(const Attr &o) const { return !(*this == o); }
  // Source form: 3, 0.5, true, "s", relu, [0, 2, 1]. Floats print with the
  // shortest text that reads back to the same double.
  std::string str() const;
};

// Sorted by name so printing is deterministic.
using AttrMap = std::map<std::string, Attr>;

const char *attrKindName(Attr::Kind k);
std::string formatDouble(double v); // shortest round-trip text, always with '.', 'e', "inf" or "nan"

} // namespace nng
