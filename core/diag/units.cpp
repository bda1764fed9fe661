// Byte sizes in text (units.h).
#include "core/diag/units.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace nng {

std::string formatScaled(double value, double base, const std::vector<const char *> &units) {
  double v = value / base;
  size_t u = 0;
  while (v >= base && u + 1 < units.size()) {
    v /= base;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string formatBytes(int64_t bytes) {
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  return formatScaled(static_cast<double>(bytes), 1024, {"KiB", "MiB", "GiB", "TiB"});
}

std::optional<int64_t> parseByteSize(const std::string &text, std::string *why) {
  auto fail = [&](std::string reason) -> std::optional<int64_t> {
    if (why)
      *why = std::move(reason);
    return std::nullopt;
  };
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  const std::string number = text.substr(0, i);
  if (number.empty() || std::count(number.begin(), number.end(), '.') > 1 || number == ".")
    return fail(text.empty() ? "no size given" : "'" + text + "' is not a size");
  size_t j = i;
  while (j < text.size() && text[j] == ' ')
    ++j;
  std::string unit = text.substr(j);
  for (char &c : unit)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const struct {
    const char *name;
    double factor;
  } units[] = {{"", 1},          {"b", 1},
               {"kib", 1024.0},  {"mib", 1048576.0},
               {"gib", 1073741824.0}, {"tib", 1099511627776.0},
               {"kb", 1e3},      {"mb", 1e6},
               {"gb", 1e9},      {"tb", 1e12}};
  for (const auto &u : units) {
    if (unit != u.name)
      continue;
    const double bytes = std::strtod(number.c_str(), nullptr) * u.factor;
    if (!(bytes >= 1))
      return fail("the size must be at least 1 byte");
    if (bytes > 9e18)
      return fail("'" + text + "' is too large");
    return static_cast<int64_t>(bytes);
  }
  return fail("unknown unit '" + text.substr(j) + "' (use B, KiB, MiB, GiB or TiB)");
}

} // namespace nng
