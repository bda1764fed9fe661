// Attribute comparison and source-form printing.
#include "core/ir/attr.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace nng {

std::vector<int64_t> Attr::asInts() const {
  if (kind == Kind::Int)
    return {i};
  std::vector<int64_t> out;
  for (const Attr &a : list)
    out.push_back(a.kind == Kind::Int ? a.i : static_cast<int64_t>(a.f));
  return out;
}

bool Attr::operator==(const Attr &o) const {
  if (kind != o.kind)
    return false;
  switch (kind) {
  case Kind::Int: return i == o.i;
  case Kind::Float: return f == o.f || (std::isnan(f) && std::isnan(o.f));
  case Kind::Bool: return b == o.b;
  case Kind::String: case Kind::Name: return s == o.s;
  case Kind::List: return list == o.list;
  }
  return false;
}

const char *attrKindName(Attr::Kind k) {
  switch (k) {
  case Attr::Kind::Int: return "int";
  case Attr::Kind::Float: return "float";
  case Attr::Kind::Bool: return "bool";
  case Attr::Kind::String: return "string";
  case Attr::Kind::Name: return "name";
  case Attr::Kind::List: return "list";
  }
  return "?";
}

std::string formatDouble(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v)
      break;
  }
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s;
}

static std::string quote(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
  }
  return out + "\"";
}

std::string Attr::str() const {
  switch (kind) {
  case Kind::Int: return std::to_string(i);
  case Kind::Float: return formatDouble(f);
  case Kind::Bool: return b ? "true" : "false";
  case Kind::String: return quote(s);
  case Kind::Name: return s;
  case Kind::List: {
    std::ostringstream os;
    os << "[";
    for (size_t k = 0; k < list.size(); ++k)
      os << (k ? ", " : "") << list[k].str();
    os << "]";
    return os.str();
  }
  }
  return "";
}

} // namespace nng
