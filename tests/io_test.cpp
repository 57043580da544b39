#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "wsenergy/io/csv.hpp"
#include "wsenergy/io/runs.hpp"

using namespace wsenergy;
using namespace wsenergy::io;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / fmt::format("wsenergy-io-{}-{}", ::getpid(), name);
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}
const std::string generic_header_line =
    "run_id,hardware,widths,inputs,outputs,train_examples,eval_examples,batch,epochs,energy_j\n";
}  // namespace

TEST_CASE("CSV tables keep quotes, lines and columns", "[io][csv]") {
  const auto t = csv_table::parse("a,b,c\r\n1,\"x, \"\"y\"\"\",3\n\n4,\"multi\nline\",6\n", "t.csv");
  REQUIRE(t.size() == 2);
  CHECK(t.text(0, 1) == "x, \"y\"");
  CHECK(t.line(1) == 4);
  CHECK(t.text(1, 1) == "multi\nline");
  CHECK(t.number(1, 2) == 6);
  CHECK(t.integer(0, 0) == 1);
  CHECK(csv_table::parse("n\n15000.0\n", "f").integer(0, 0) == 15000);
}

TEST_CASE("bad CSV gives the file, line, column and value", "[io][csv][errors]") {
  CHECK_THROWS_WITH(csv_table::parse("", "empty.csv"), Contains("empty.csv") && Contains("empty"));
  CHECK_THROWS_WITH(csv_table::parse("a,b\n1,2,3\n", "f.csv"),
                    Contains("f.csv:2") && Contains("expected 2 fields"));
  CHECK_THROWS_WITH(csv_table::parse("a\n\"open\n", "q.csv"), Contains("unterminated"));
  const auto t = csv_table::parse("a,b\n1,abc\n2,1.5\n", "n.csv");
  CHECK_THROWS_WITH(t.number(0, 1), Contains("n.csv:2") && Contains("column 'b'") &&
                                        Contains("expected a number") && Contains("'abc'"));
  CHECK_THROWS_WITH(t.integer(1, 1), Contains("n.csv:3") && Contains("integer"));
  CHECK_THROWS_WITH(t.require_column("energy"), Contains("no column 'energy'"));
}

TEST_CASE("whole files are replaced atomically and rows appended whole", "[io][csv]") {
  const fs::path p = temp_file("atomic.csv");
  write_file_atomically(p, "a\n1\n");
  write_file_atomically(p, "a\n2\n");
  CHECK(slurp(p) == "a\n2\n");
  fs::remove(p);
  append_csv_row(p, {"a", "b"}, {"1", "x,y"});
  append_csv_row(p, {"a", "b"}, {"2", "z"});
  CHECK(slurp(p) == "a,b\n1,\"x,y\"\n2,z\n");
  // A torn last row (a writer killed mid-write) is cut before the next row is appended.
  std::ofstream(p, std::ios::app) << "3,tor";
  append_csv_row(p, {"a", "b"}, {"4", "w"});
  CHECK(slurp(p) == "a,b\n1,\"x,y\"\n2,z\n4,w\n");
  CHECK_THROWS_WITH(append_csv_row(p, {"a", "c"}, {"5", "v"}), Contains("header differs"));
  fs::remove(p);
}

TEST_CASE("generic runs are read by widths or by shape and size", "[io][runs]") {
  const auto t = csv_table::parse(
      "run_id,hardware,shape,size,depth,inputs,outputs,train_examples,eval_examples,batch,epochs,"
      "energy_j,duration_s,status\n"
      "r1,eagle-cpu,rectangle,256,3,4,1,3078,770,256,3000,1234.5,60,ok\n"
      "r2,eagle-cpu,trapezoid,1024,5,4,1,3078,770,256,3000,,,failed\n",
      "runs.csv");
  const auto runs = read_generic_runs(t);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].widths == std::vector<std::int64_t>{13, 13, 1});
  CHECK(runs[0].energy_j == 1234.5);
  CHECK(runs[0].duration_s == 60);
  CHECK(runs[1].widths == std::vector<std::int64_t>{25, 19, 13, 7, 1});
  CHECK_FALSE(runs[1].energy_j);
  CHECK_FALSE(runs[1].ok);
  // Round trip through the writer's fields.
  const auto again = read_generic_runs(csv_table::parse(
      csv_line(generic_header()) + csv_line(generic_fields(runs[0])), "again.csv"));
  CHECK(again[0].widths == runs[0].widths);
  CHECK(again[0].run.train_examples == 3078);
  CHECK(again[0].energy_j == 1234.5);
}

TEST_CASE("bad generic rows name file, line, column and value", "[io][runs][errors]") {
  auto read = [](const std::string& body) {
    return read_generic_runs(csv_table::parse(generic_header_line + body, "m.csv"));
  };
  CHECK_THROWS_WITH(read("a,cpu,13 13 1,4,1,3078,770,256,3000,-5\n"),
                    Contains("m.csv:2") && Contains("energy_j") && Contains("'-5'"));
  CHECK_THROWS_WITH(read("a,cpu,13 13 1,4,1,3078,770,256,3000,lots\n"),
                    Contains("energy_j") && Contains("expected a number") && Contains("'lots'"));
  CHECK_THROWS_WITH(read("a,cpu,13 x 1,4,1,3078,770,256,3000,5\n"),
                    Contains("widths") && Contains("'13 x 1'"));
  CHECK_THROWS_WITH(read("a,cpu,13 13 2,4,1,3078,770,256,3000,5\n"),
                    Contains("last width must equal outputs"));
  CHECK_THROWS_WITH(read("a,cpu,13 13 1,4,1,3078,770,0,3000,5\n"),
                    Contains("batch") && Contains("must be positive"));
  CHECK_THROWS_WITH(read_generic_runs(csv_table::parse("hardware,widths\ncpu,1 1\n", "h.csv")),
                    Contains("h.csv:1") && Contains("no column 'inputs'"));
  CHECK_THROWS_WITH(
      read_generic_runs(csv_table::parse(
          "hardware,shape,size,depth,inputs,outputs,train_examples,eval_examples,batch,epochs,"
          "energy_j\ncpu,rectangle,1024,3,784,10,1,1,1,1,1\n",
          "s.csv")),
      Contains("s.csv:2") && Contains("'size'") && Contains("within 20 %"));
}
