// The `nng` executable: parses the command line with CLI11, runs the chosen
// subcommand and maps every outcome to an exit code (0 ok, 1 input error, 2 usage
// error, 3 internal error). Data goes to stdout, diagnostics to stderr.
#include <algorithm>
#include <cstdlib>
#include <cctype>
#include <exception>
#include <iostream>
#include <new>
#include <unistd.h>

#include "cli/commands.h"
#include "core/cpu/blas_core.h"
#include "core/cpu/cpu_backend.h"

#ifndef NNG_VERSION
#error "NNG_VERSION must be defined by the build"
#endif

namespace nng::cli {

std::string displayName(const std::string &path) { return path == "-" ? "<stdin>" : path; }

void printUserError(const UserError &e) {
  DiagnosticSink sink;
  std::cerr << sink.format(e.diagnostic());
}

int writeStdout(const std::string &text) {
  std::cout << text << std::flush;
  if (!std::cout) {
    std::cerr << "nng: error: cannot write to standard output\n";
    return kExitInputError;
  }
  return kExitOk;
}

namespace {

const char *kRootFooter =
    "Examples:\n"
    "  nng check examples/*.nn\n"
    "  nng print examples/mlp.nn\n"
    "  nng print examples/cnn.nn --format dot | dot -Tsvg > cnn.svg\n"
    "  nng print examples/resmlp.nn | nng print -     # the printed form reads back\n"
    "  nng devices\n\n"
    "Exit codes: 0 success, 1 input error (bad source or file), 2 usage error,\n"
    "3 internal error. Run 'nng help COMMAND' or 'nng COMMAND --help' for details.";

// The command whose options were being parsed when an error happened, for the hint.
std::string failingCommand(const CLI::App &root) {
  auto parsed = root.get_subcommands();
  return parsed.empty() ? "" : " " + parsed.back()->get_name();
}

int usageError(std::string message, const std::string &command) {
  // CLI11 capitalizes its messages ("The following argument..."); ours are lower case.
  if (message.size() > 1 && std::isupper(static_cast<unsigned char>(message[0])) &&
      std::islower(static_cast<unsigned char>(message[1])))
    message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
  std::cerr << "nng: error: " << message << "\n"
            << "Run 'nng help" << command << "' for usage.\n";
  return kExitUsageError;
}

int run(int argc, char **argv) {
  registerCpuBackend(); // backends register explicitly, never from static initializers
  CLI::App root{"nng: a language, compiler and trainer for neural networks", "nng"};
  root.set_version_flag("--version", std::string("nng ") + NNG_VERSION);
  root.footer(kRootFooter);
  root.require_subcommand(0, 1);
  std::vector<Command> commands = {
      addCheck(root), addPrint(root),     addGrad(root),     addOptimize(root), addStats(root),
      addTrain(root), addEval(root),      addPredict(root),  addRun(root),
      addGradCheck(root), addDevices(root), addHelp(root)};

  // An unknown command would otherwise read as "argument not expected"; name it.
  if (argc > 1 && argv[1][0] != '-') {
    std::string word = argv[1];
    std::vector<std::string> names;
    for (const Command &c : commands)
      names.push_back(c.app->get_name());
    if (std::find(names.begin(), names.end(), word) == names.end()) {
      std::string hint = closestMatch(word, names);
      return usageError("unknown command '" + word + "'" +
                            (hint.empty() ? "" : "; did you mean '" + hint + "'?"),
                        "");
    }
  }

  try {
    root.parse(argc, argv);
  } catch (const CLI::Success &e) { // --help, --version
    return root.exit(e);
  } catch (const CLI::ParseError &e) {
    return usageError(e.what(), failingCommand(root));
  }
  for (const Command &c : commands)
    if (c.app->parsed())
      return c.run();
  // No command: show what there is, as a usage error.
  std::cerr << root.help();
  return kExitUsageError;
}

} // namespace
} // namespace nng::cli

int main(int argc, char **argv) {
  // OpenBLAS chooses its kernels when it loads, from the CPU model; a virtual machine
  // that reports a generic model gets SSE3 kernels, 4.5x slower at sgemm than the
  // AVX-512 ones its CPU runs (bench/README.md). The choice can only be changed
  // through OPENBLAS_CORETYPE before loading, so nng sets it and runs itself again.
  // A user's own OPENBLAS_CORETYPE is left alone.
  if (!std::getenv("OPENBLAS_CORETYPE")) {
    std::string core = nng::fasterBlasCoreType();
    if (!core.empty()) {
      setenv("OPENBLAS_CORETYPE", core.c_str(), /*overwrite=*/1);
      execv("/proc/self/exe", argv); // returns only on failure: go on as we are
    }
  }
  // OpenMP threads that spin long between parallel regions starve everything else on
  // a shared machine (a 2 s run took 96 s beside another job), and never spinning
  // costs a quarter of the MLP's speed. A short spin, then sleep, keeps both (bench/).
  if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT"))
    setenv("GOMP_SPINCOUNT", "10000", /*overwrite=*/0);
  try {
    return nng::cli::run(argc, argv);
  } catch (const nng::UserError &e) {
    nng::cli::printUserError(e);
    return nng::cli::kExitInputError;
  } catch (const std::bad_alloc &) {
    std::cerr << "nng: internal error: out of memory\n";
  } catch (const std::exception &e) {
    std::cerr << "nng: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "nng: internal error: unknown exception\n";
  }
  return nng::cli::kExitInternal;
}
