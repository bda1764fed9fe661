// The subcommands of the `nng` executable. Each one adds itself to the CLI11 app and
// returns the action main() runs when the user picked it; main() owns parsing, error
// reporting and exit codes. Subcommands only do I/O around library calls.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

#include <CLI/CLI.hpp>

#include "core/diag/diagnostic.h"

namespace nng::cli {

// The exit codes of every command (docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitInputError = 1, // bad source, unreadable file, unknown model
  kExitUsageError = 2, // unknown command or flag, missing argument
  kExitInternal = 3,   // a bug in nng
};

struct Command {
  CLI::App *app = nullptr;  // the subcommand, to tell whether it was chosen
  std::function<int()> run; // returns the exit code
};

Command addCheck(CLI::App &root);
Command addPrint(CLI::App &root);
Command addDevices(CLI::App &root);
Command addTrain(CLI::App &root);     // train.cpp
Command addEval(CLI::App &root);      // infer.cpp
Command addPredict(CLI::App &root);   // infer.cpp
Command addRun(CLI::App &root);       // infer.cpp
Command addGrad(CLI::App &root);      // grad.cpp
Command addGradCheck(CLI::App &root); // grad.cpp
Command addOptimize(CLI::App &root);  // optimize.cpp
Command addStats(CLI::App &root);     // stats.cpp
// `nng help [COMMAND]`: prints the help of the root or of one command.
Command addHelp(CLI::App &root);

// How a file argument is named in messages: "-" is standard input.
std::string displayName(const std::string &path);

// Prints a UserError as the diagnostics sink formats it, to stderr.
void printUserError(const UserError &e);

// Writes `text` to stdout and flushes; a failed write (a full disk) is an input error.
int writeStdout(const std::string &text);

} // namespace nng::cli
