// Checkpoint files (see checkpoint.h). Floats in the metadata are written as
// hexadecimal floating point ("%a") so they read back exactly.
#include "core/train/checkpoint.h"

#include "core/data/atomic_file.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace nng {

namespace fs = std::filesystem;

namespace {

std::string hexDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

const std::string &meta(const std::map<std::string, std::string> &m, const std::string &key,
                        const std::string &path) {
  auto it = m.find(key);
  if (it == m.end())
    throw UserError(path + ": not an nng checkpoint (metadata '" + key + "' is missing)");
  return it->second;
}

int64_t metaInt(const std::map<std::string, std::string> &m, const std::string &key,
                const std::string &path) {
  const std::string &s = meta(m, key, path);
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used);
    if (used == s.size())
      return v;
  } catch (const std::exception &) {
  }
  throw UserError(path + ": checkpoint metadata '" + key + "' is not an integer: " + s);
}

} // namespace

std::string saveCheckpoint(const std::string &dir, const TensorFile &tensors,
                           const TrainState &s, int64_t keep) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw UserError("cannot create checkpoint directory '" + dir + "': " + ec.message());
  char name[64];
  std::snprintf(name, sizeof name, "checkpoint-%08lld.safetensors", static_cast<long long>(s.step));
  const std::string path = (fs::path(dir) / name).string();
  std::map<std::string, std::string> m = {
      {"format", "nng-checkpoint"},
      {"nng.step", std::to_string(s.step)},
      {"nng.micro_step", std::to_string(s.microStep)},
      {"nng.cursor.epoch", std::to_string(s.cursor.epoch)},
      {"nng.cursor.index", std::to_string(s.cursor.index)},
      {"nng.epoch_loss_sum", hexDouble(s.epochLossSum)},
      {"nng.epoch_correct", std::to_string(s.epochCorrect)},
      {"nng.epoch_samples", std::to_string(s.epochSamples)},
      {"nng.seed", std::to_string(s.seed)},
      {"nng.model", s.model},
  };
  writeSafetensors(path, tensors, m);
  writeFileAtomically((fs::path(dir) / "latest").string(), std::string(name) + "\n");

  if (keep > 0) {
    std::vector<std::string> all;
    for (const auto &e : fs::directory_iterator(dir, ec)) {
      std::string f = e.path().filename().string();
      if (f.rfind("checkpoint-", 0) == 0 && e.path().extension() == ".safetensors")
        all.push_back(e.path().string());
    }
    std::sort(all.begin(), all.end()); // zero-padded steps sort by age
    for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i)
      fs::remove(all[i], ec);
  }
  return path;
}

LoadedCheckpoint loadCheckpoint(const std::string &pathIn) {
  std::string path = pathIn;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::ifstream latest(fs::path(path) / "latest");
    std::string name;
    if (!latest || !std::getline(latest, name) || name.empty())
      throw UserError(path + ": no checkpoint here (the file 'latest' is missing)");
    path = (fs::path(path) / name).string();
  }
  LoadedCheckpoint out;
  out.path = path;
  std::map<std::string, std::string> m;
  out.tensors = readSafetensors(path, &m);
  if (meta(m, "format", path) != "nng-checkpoint")
    throw UserError(path + ": not an nng checkpoint");
  TrainState &s = out.state;
  s.step = metaInt(m, "nng.step", path);
  s.microStep = metaInt(m, "nng.micro_step", path);
  s.cursor.epoch = metaInt(m, "nng.cursor.epoch", path);
  s.cursor.index = metaInt(m, "nng.cursor.index", path);
  s.epochLossSum = std::strtod(meta(m, "nng.epoch_loss_sum", path).c_str(), nullptr);
  s.epochCorrect = metaInt(m, "nng.epoch_correct", path);
  s.epochSamples = metaInt(m, "nng.epoch_samples", path);
  const std::string &seed = meta(m, "nng.seed", path);
  char *end = nullptr;
  s.seed = std::strtoull(seed.c_str(), &end, 10);
  if (seed.empty() || *end != '\0')
    throw UserError(path + ": checkpoint metadata 'nng.seed' is not an integer: " + seed);
  s.model = meta(m, "nng.model", path);
  return out;
}

} // namespace nng
