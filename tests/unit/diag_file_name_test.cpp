// FileName (core/diag/file_name.h): interning gives one entry per distinct name, so copies
// and equal names share it, and a FileName reads, compares and prints as its string.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/diag/diagnostic.h"

namespace nng {
namespace {

TEST(FileName, DefaultIsTheEmptyName) {
  FileName f;
  EXPECT_TRUE(f.empty());
  EXPECT_EQ(f.str(), "");
  EXPECT_EQ(f, FileName(""));
  EXPECT_EQ(f, std::string());
  EXPECT_TRUE(SourceLoc{}.file.empty());
}

TEST(FileName, EqualNamesShareOneEntry) {
  std::string path = "models/a_path_longer_than_the_small_buffer.nn";
  FileName a(path), b(std::string("models/") + "a_path_longer_than_the_small_buffer.nn");
  FileName copy = a;
  EXPECT_EQ(&a.str(), &b.str());
  EXPECT_EQ(&copy.str(), &a.str());
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a.empty());
  EXPECT_NE(a, FileName("models/other.nn"));
  EXPECT_NE(a, FileName());
}

TEST(FileName, ComparesWithStrings) {
  FileName f("train.yaml");
  std::string same = "train.yaml", other = "test.yaml";
  EXPECT_TRUE(f == same && same == f && f == "train.yaml" && "train.yaml" == f);
  EXPECT_TRUE(f != other && other != f && f != "test.yaml" && "test.yaml" != f);
  EXPECT_FALSE(f != same || f == other || f == "");
  const std::string &asString = f;
  EXPECT_EQ(asString, "train.yaml");
}

TEST(FileName, PrintsAsTheName) {
  std::ostringstream os;
  os << FileName("-") << "|" << FileName() << "|" << FileName("<stdin>");
  EXPECT_EQ(os.str(), "-||<stdin>");
  EXPECT_EQ((SourceLoc{"dir/model.nn", 3, 7}.str()), "dir/model.nn:3:7");
}

// Threads interning the same names at once get the same entries.
TEST(FileName, InterningIsThreadSafe) {
  const int kThreads = 4, kNames = 200;
  std::vector<std::vector<const std::string *>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kNames; ++i)
        seen[t].push_back(&FileName("concurrent/file_" + std::to_string(i) + ".nn").str());
    });
  for (std::thread &t : threads)
    t.join();
  for (int t = 1; t < kThreads; ++t)
    EXPECT_EQ(seen[t], seen[0]);
  for (int i = 0; i < kNames; ++i)
    EXPECT_EQ(*seen[0][i], "concurrent/file_" + std::to_string(i) + ".nn");
}

} // namespace
} // namespace nng
