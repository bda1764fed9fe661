// Byte sizes as people write and read them: "64MiB" in flags and specs, "2.5 MiB" in
// reports and messages. One place, so that every command accepts and prints the same.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nng {

// "512 B", "1.5 KiB", "2.0 MiB": binary units, one decimal.
std::string formatBytes(int64_t bytes);

// value / base^k with one decimal and the k-th of `units` ("1.5 KiB", "137.2 M"), for the
// smallest k >= 1 that brings it under `base`, or the last unit: the scaling that
// formatBytes and the FLOP counts of `nng stats` share. For values of at least `base`.
std::string formatScaled(double value, double base, const std::vector<const char *> &units);

// "64MiB", "1.5 GiB", "512KiB", "1e6"-free plain "1048576", decimal "64MB": bytes, at
// least 1. nullopt for anything else, with the reason in `why` when given ("unknown
// unit 'XiB' (use B, KiB, MiB, GiB or TiB)").
std::optional<int64_t> parseByteSize(const std::string &text, std::string *why = nullptr);

} // namespace nng
