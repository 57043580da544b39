#pragma once
// Running the wsenergy tool from a test as a user would, and checking its one-line errors.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

namespace wsenergy::test {

/// What one run of the tool gave.
struct cli_result {
  int status = -1;  ///< exit status (-1 when killed by a signal)
  std::string out;  ///< standard output
  std::string err;  ///< standard error
};

/// Runs `ENV WSENERGY_CLI ARGS` through the shell, capturing standard output and error apart.
inline cli_result run_cli(const std::string& args, const std::string& env = "") {
  static int counter = 0;
  const std::filesystem::path err_file =
      std::filesystem::temp_directory_path() /
      ("wsenergy-cli-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".err");
  const std::string command = (env.empty() ? "" : env + " ") + std::string(WSENERGY_CLI) + " " +
                              args + " 2>" + err_file.string();
  cli_result r;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), {});
  std::filesystem::remove(err_file);
  return r;
}

/// Checks an error as the tool must report it: non-zero exit, one line on standard error that
/// starts with `wsenergy: error: ` and contains `what`.
inline void check_one_line_error(const cli_result& r, const std::string& what) {
  using Catch::Matchers::Contains;
  using Catch::Matchers::StartsWith;
  CHECK(r.status != 0);
  CHECK_THAT(r.err, StartsWith("wsenergy: error: ") && Contains(what));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

/// An error with nothing at all on standard output.
inline void check_cli_error(const std::string& args, const std::string& what,
                            const std::string& env = "") {
  INFO("wsenergy " << args);
  const cli_result r = run_cli(args, env);
  check_one_line_error(r, what);
  CHECK(r.out.empty());
}

}  // namespace wsenergy::test
