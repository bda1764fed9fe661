// `nng help [COMMAND]`: the same text as `nng --help` or `nng COMMAND --help`.
#include <iostream>
#include <memory>

#include "cli/commands.h"

namespace nng::cli {

namespace {

int runHelp(const CLI::App &root, const std::string &topic) {
  // Not root.help(): once `help` itself was parsed, that prints the help of `help`.
  if (topic.empty())
    return writeStdout(root.get_formatter()->make_help(&root, "nng", CLI::AppFormatMode::Normal));
  std::vector<std::string> names;
  for (const CLI::App *sub : root.get_subcommands({})) {
    if (sub->get_name() == topic)
      return writeStdout(sub->help("nng"));
    names.push_back(sub->get_name());
  }
  std::string hint = closestMatch(topic, names);
  std::cerr << "nng: error: unknown command '" << topic << "'"
            << (hint.empty() ? "" : "; did you mean '" + hint + "'?") << "\n"
            << "Run 'nng help' for the list of commands.\n";
  return kExitUsageError;
}

} // namespace

Command addHelp(CLI::App &root) {
  auto topic = std::make_shared<std::string>();
  CLI::App *app = root.add_subcommand("help", "Show the help of nng or of one COMMAND");
  app->add_option("COMMAND", *topic, "a command name");
  app->footer("Examples:\n"
              "  nng help\n"
              "  nng help print");
  const CLI::App *rootPtr = &root;
  return {app, [rootPtr, topic] { return runHelp(*rootPtr, *topic); }};
}

} // namespace nng::cli
