// wsenergy: predict and explain the energy of training neural networks from their working sets.

#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli_common.hpp"

int main(int argc, char** argv) {
  CLI::App app{"wsenergy: energy of neural-network training from working sets and caches"};
  app.require_subcommand(1);
  app.set_version_flag("--version", wsenergy::version);
  wsenergy::cli::add_core_commands(app);
  wsenergy::cli::add_advise_commands(app);
  wsenergy::cli::add_measure_commands(app);
  wsenergy::cli::add_cluster_commands(app);
  wsenergy::cli::add_fit_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "wsenergy: error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
