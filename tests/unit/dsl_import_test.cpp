// Imports, with real files in a temporary directory: relative paths, diamonds, cycles,
// missing files, duplicates across files, and readSource's errors.
#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "dsl_testing.h"

namespace nng::dsl {
namespace {

namespace fs = std::filesystem;
using testing::paramNames;
using Strings = std::vector<std::string>;

class DslImport : public ::testing::Test {
protected:
  void SetUp() override {
    auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    dir_ = fs::temp_directory_path() / ("nng_dsl_import_" + std::to_string(stamp));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Writes `text` to dir/rel and returns the path as a string.
  std::string write(const std::string &rel, const std::string &text) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  struct Result {
    std::optional<Graph> graph;
    DiagnosticSink sink;
    Strings errors() const {
      Strings out;
      for (const Diagnostic &d : sink.diagnostics())
        out.push_back(d.loc.str() + ": " + d.message);
      return out;
    }
  };

  Result load(const std::string &path, const std::string &model = "") {
    Result r;
    r.graph = loadModel(readSource(path), model, r.sink);
    return r;
  }

  fs::path dir_;
};

TEST_F(DslImport, RelativePathsConstsAndBlocks) {
  write("lib/blocks.nn", R"(import "consts.nn";
block tower(x) {
  h = relu(dense(x, WIDTH));
  return h;
}
)");
  write("lib/consts.nn", "const WIDTH = 16;\n");
  std::string main = write("model.nn", R"(import "lib/blocks.nn";
model m {
  input x: f32[N, 8];
  left = tower(x);
  output left;
}
)");
  Result r = load(main);
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  EXPECT_EQ(paramNames(*r.graph), (Strings{"left.h.weight", "left.h.bias"}));
  EXPECT_EQ(r.graph->typeOf(r.graph->find("left")).str(), "f32[N, 16]");
}

TEST_F(DslImport, ErrorsInImportedFilesNameThatFile) {
  write("blocks.nn", "block tower(x) {\n  return relu(x) @ x;\n}\n");
  std::string main = write("model.nn", "import \"blocks.nn\";\nmodel m {\n  input x: "
                                       "f32[N, 8];\n  y = tower(x);\n}\n");
  Result r = load(main);
  ASSERT_EQ(r.sink.diagnostics().size(), 1u);
  const Diagnostic &d = r.sink.diagnostics()[0];
  EXPECT_EQ(d.loc.str(), (dir_ / "blocks.nn").string() + ":2:18");
  EXPECT_EQ(d.notes, Strings{"in block 'tower' called at " + main + ":4:7"});
  // The imported file's line is quoted too.
  EXPECT_NE(r.sink.formatAll().find("    return relu(x) @ x;\n"), std::string::npos);
}

TEST_F(DslImport, DiamondIsLoadedOnce) {
  write("common.nn", "const K = 3;\n");
  write("a.nn", "import \"common.nn\";\nconst A = K + 1;\n");
  write("b.nn", "import \"./common.nn\";\nconst B = K + 2;\n");
  std::string main =
      write("main.nn", "import \"a.nn\";\nimport \"b.nn\";\nmodel m { input x: f32[A, B]; }\n");
  Result r = load(main);
  ASSERT_TRUE(r.graph) << ::testing::PrintToString(r.errors());
  EXPECT_EQ(r.graph->typeOf(r.graph->find("x")).str(), "f32[4, 5]");
}

TEST_F(DslImport, Cycles) {
  std::string a = write("a.nn", "import \"b.nn\";\nmodel m { }\n");
  std::string b = write("b.nn", "const B = 1;\nimport \"a.nn\";\n");
  Result r = load(a);
  EXPECT_EQ(r.errors(), Strings{a + ":1:1: cycle in imports: " + a + " -> " + b + " -> " + a});

  std::string self = write("self.nn", "import \"self.nn\";\n");
  EXPECT_EQ(load(self).errors(),
            Strings{self + ":1:1: cycle in imports: " + self + " -> " + self});
}

TEST_F(DslImport, MissingFileIsReportedAtTheImport) {
  std::string main = write("main.nn", "const A = 1;\nimport \"nope.nn\";\nmodel m { }\n");
  Result r = load(main);
  std::string missing = (dir_ / "nope.nn").string();
  EXPECT_EQ(r.errors(), Strings{main + ":2:1: cannot read '" + missing +
                                "': No such file or directory"});
  std::string empty = write("e.nn", "import \"\";");
  EXPECT_EQ(load(empty).errors(), Strings{empty + ":1:1: import path is empty"});
}

TEST_F(DslImport, DuplicatesAcrossFiles) {
  std::string lib = write("lib.nn", "const W = 1;\n");
  std::string main = write("main.nn", "import \"lib.nn\";\nconst W = 2;\n");
  EXPECT_EQ(load(main).errors(),
            Strings{main + ":2:7: 'W' is already defined at " + lib + ":1:7"});
}

TEST_F(DslImport, SyntaxErrorsInImportsStopLoading) {
  std::string lib = write("lib.nn", "const W = ;\n");
  std::string main = write("main.nn", "import \"lib.nn\";\nmodel m { }\n");
  EXPECT_EQ(load(main).errors(), Strings{lib + ":1:11: expected an expression, found ';'"});
}

TEST_F(DslImport, ImportedModelsAreFoundByName) {
  write("lib.nn", "model inner { input a: f32[1]; }\n");
  std::string main = write("main.nn", "import \"lib.nn\";\nmodel outer { input b: f32[2]; }\n");
  Result byName = load(main, "inner");
  ASSERT_TRUE(byName.graph);
  EXPECT_EQ(byName.graph->name, "inner");
  Result dflt = load(main);
  ASSERT_TRUE(dflt.graph);
  EXPECT_EQ(dflt.graph->name, "outer") << "the default comes from the main file";
  // A main file without models uses the imported ones.
  std::string only = write("only.nn", "import \"lib.nn\";\n");
  Result imported = load(only);
  ASSERT_TRUE(imported.graph);
  EXPECT_EQ(imported.graph->name, "inner");
}

TEST_F(DslImport, ImportDepthIsLimited) {
  for (int i = 0; i < 70; ++i)
    write("f" + std::to_string(i) + ".nn", "import \"f" + std::to_string(i + 1) + ".nn\";\n");
  write("f70.nn", "const Z = 0;\n");
  Result r = load((dir_ / "f0.nn").string());
  ASSERT_EQ(r.sink.diagnostics().size(), 1u);
  EXPECT_EQ(r.sink.diagnostics()[0].message, "imports nested too deeply (limit 64)");
}

TEST_F(DslImport, ReadSourceErrors) {
  std::string missing = (dir_ / "missing.nn").string();
  try {
    readSource(missing);
    FAIL() << "readSource of a missing file must throw";
  } catch (const UserError &e) {
    EXPECT_EQ(std::string(e.what()), "cannot read '" + missing + "': No such file or directory");
  }
  try {
    readSource(dir_.string());
    FAIL() << "readSource of a directory must throw";
  } catch (const UserError &e) {
    EXPECT_EQ(std::string(e.what()), "cannot read '" + dir_.string() + "': Is a directory");
  }
  Source ok = readSource(write("ok.nn", "model m { }"));
  EXPECT_EQ(ok.text, "model m { }");
  EXPECT_FALSE(ok.fromStdin);
}

} // namespace
} // namespace nng::dsl
