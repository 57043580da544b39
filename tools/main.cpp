// wsenergy: predict and explain the energy of training neural networks from their working sets.

#include <charconv>
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli_common.hpp"
#include "cli_output.hpp"
#include "wsenergy/io/files.hpp"

namespace {

/// One line on standard error in the house form; exit status 1.
int fail(std::string message) {
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  std::cerr << "wsenergy: error: " << message << '\n';
  return 1;
}

/// Whole numbers are decimal and fit 64 bits: CLI11 would read `0x10` as 16, `010` as 8 and
/// saturate 99999999999999999999 silently.
std::string check_decimal(std::string& text) {
  const char* first = text.data();
  const char* last = first + text.size();
  if (first != last && *first == '+') ++first;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(first, last, value);
  if (ec == std::errc::result_out_of_range) return "'" + text + "' does not fit in 64 bits";
  if (ec != std::errc{} || end != last) return "expected a whole decimal number, got '" + text + "'";
  text = std::to_string(value);  // CLI11 reads what is left with base 0: 010 would be 8
  return {};
}

/// Adds `check_decimal` to every integer option of `app` and its subcommands.
void check_integer_options(CLI::App& app) {
  static const CLI::Validator decimal(check_decimal, "");
  for (CLI::Option* option : app.get_options())
    if (const std::string type = option->get_type_name(); type == "INT" || type == "UINT")
      option->transform(decimal);  // transform: it may rewrite the text (check may not)
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    check_integer_options(*sub);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wsenergy: energy of neural-network training from working sets and caches"};
  app.require_subcommand(1);
  app.set_version_flag("--version", wsenergy::version);
  wsenergy::cli::add_core_commands(app);
  wsenergy::cli::add_advise_commands(app);
  wsenergy::cli::add_measure_commands(app);
  wsenergy::cli::add_cluster_commands(app);
  wsenergy::cli::add_fit_commands(app);
  wsenergy::cli::add_output_commands(app);
  check_integer_options(app);
  try {
    app.parse(argc, argv);
    // Output that never arrived (a full disk, /dev/full, a closed pipe) is an error too.
    wsenergy::io::flush_standard_output();
    std::cout.flush();
    if (!std::cout) throw wsenergy::invalid_input("standard output: cannot write");
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(std::string(e.what()) + " (see wsenergy --help)");
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return 0;
}
