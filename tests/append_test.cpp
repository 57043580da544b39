// Runs files shared by several writers: whole rows under flock, torn tails cut, clear errors.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "wsenergy/io/append.hpp"
#include "wsenergy/io/csv.hpp"
#include "scratch.hpp"

using namespace wsenergy;
using namespace wsenergy::io;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

using test::temp_dir;
using test::slurp;

namespace {

const std::vector<std::string> header = {"run_id", "writer", "payload"};

}  // namespace

TEST_CASE("4 processes appending 500 rows each leave every row once, whole", "[append]") {
  temp_dir t;
  const fs::path file = t.path / "shared.csv";
  constexpr int writers = 4;
  constexpr int rows = 500;
  // A long field with a comma and a quote, so a torn or interleaved row would not parse.
  const std::string payload = "\"quoted\", " + std::string(300, 'x');
  std::vector<pid_t> children;
  for (int w = 0; w < writers; ++w) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int status = 0;
      try {
        for (int r = 0; r < rows; ++r)
          append_csv_row_locked(file, header,
                                {fmt::format("w{}-r{}", w, r), fmt::format("{}", w), payload});
      } catch (...) {
        status = 1;
      }
      ::_exit(status);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  const std::string text = slurp(file);
  const auto table = csv_table::parse(text, file.string());  // throws on a torn row
  CHECK(table.header() == header);
  REQUIRE(table.size() == writers * rows);
  std::map<std::string, int> seen;
  for (std::size_t r = 0; r < table.size(); ++r) {
    ++seen[table.text(r, 0)];
    CHECK(table.text(r, 2) == payload);
  }
  CHECK(seen.size() == static_cast<std::size_t>(writers * rows));
  for (const auto& [id, n] : seen) CHECK(n == 1);
  // Each writer's rows are in its own order.
  std::map<std::string, int> next;
  for (std::size_t r = 0; r < table.size(); ++r) {
    const std::string& w = table.text(r, 1);
    CHECK(table.text(r, 0) == fmt::format("w{}-r{}", w, next[w]++));
  }
}

TEST_CASE("a torn tail is cut on the next append and readers never see it", "[append]") {
  temp_dir t;
  const fs::path file = t.path / "runs.csv";
  append_csv_rows(file, header, {{"a", "1", "p"}, {"b", "1", "p"}});
  { std::ofstream(file, std::ios::app) << "c,1,half a r"; }  // a writer killed mid-row
  CHECK(read_whole_rows(file) == "run_id,writer,payload\na,1,p\nb,1,p\n");
  append_csv_row_locked(file, header, {"d", "2", "p"});
  CHECK(slurp(file) == "run_id,writer,payload\na,1,p\nb,1,p\nd,2,p\n");
  CHECK(read_whole_rows(t.path / "missing.csv").empty());
}

TEST_CASE("appends to a foreign file or a folder fail with the file named", "[append][errors]") {
  temp_dir t;
  const fs::path other = t.path / "other.csv";
  { std::ofstream(other) << "x,y\n1,2\n"; }
  CHECK_THROWS_WITH(
      append_csv_row_locked(other, header, {"a", "1", "p"}),
      Contains("other.csv:1: the header differs") && Contains("run_id,writer,payload"));
  CHECK(slurp(other) == "x,y\n1,2\n");  // left alone
  CHECK_THROWS_WITH(append_csv_row_locked(t.path, header, {"a", "1", "p"}),
                    Contains(t.path.string()) && Contains("cannot open for appending"));
  const fs::path folder = t.path / "folder.csv";
  fs::create_directories(folder);
  CHECK_THROWS_WITH(read_whole_rows(folder), Contains("folder.csv: is a directory"));
}
