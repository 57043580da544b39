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

// ------------------------------------------------------------------ hostile input and output

TEST_CASE("CSV: a byte order mark is skipped and CR-only lines and repeated columns are refused",
          "[io][csv][errors][security]") {
  const auto t = csv_table::parse("\xEF\xBB\xBFrun_id,x\na,1\n", "bom.csv");
  CHECK(t.has_column("run_id"));
  CHECK(t.text(0, 0) == "a");
  CHECK_THROWS_WITH(csv_table::parse("a,b\r1,2\r", "mac.csv"),
                    Contains("mac.csv:1: a carriage return (CR) without a line feed"));
  CHECK_THROWS_WITH(csv_table::parse("a,b,a\n1,2,3\n", "dup.csv"),
                    Contains("dup.csv:1: column 'a' appears twice in the header (columns 1 and 3)"));
  // A carriage return inside a quoted field is data.
  CHECK(csv_table::parse("a\n\"x\ry\"\n", "q.csv").text(0, 0) == "x\ry");
}

TEST_CASE("input files must be regular files and are read up to a bound",
          "[io][files][errors][security]") {
  const fs::path dir = temp_file("inputs");
  fs::remove_all(dir);
  fs::create_directories(dir);
  CHECK_THROWS_WITH(read_text_file(dir), Contains(dir.string() + ": is a folder"));
  CHECK_THROWS_WITH(csv_table::read("/dev/zero"),
                    Contains("/dev/zero: is a character device; give a regular file"));
  const fs::path fifo = dir / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(csv_table::read(fifo), Contains("fifo: is a FIFO"));  // no hang
  CHECK_THROWS_WITH(read_text_file(dir / "missing.csv"),
                    Contains("missing.csv: cannot open the file"));
  std::ofstream(dir / "big.csv") << std::string(100, 'x');
  CHECK_THROWS_WITH(read_text_file(dir / "big.csv", 64),
                    Contains("big.csv: larger than the limit of 64 bytes"));
  CHECK(read_text_file(dir / "big.csv", 100).size() == 100);
  CHECK(max_input_bytes == (std::uint64_t{1} << 30));
  fs::remove_all(dir);
}

TEST_CASE("outputs: no write through a planted link and no device replaced and folders checked",
          "[io][files][errors][security]") {
  const fs::path dir = temp_file("outputs");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path out = dir / "out.csv";
  const fs::path victim = dir / "victim";
  std::ofstream(victim) << "precious\n";
  // The old temporary name, planted as a link to another file: never followed.
  fs::create_symlink(victim, out.string() + fmt::format(".tmp.{}", ::getpid()));
  write_file_atomically(out, "a\n1\n");
  CHECK(slurp(out) == "a\n1\n");
  CHECK(slurp(victim) == "precious\n");
  // The replaced file keeps its permissions.
  fs::permissions(out, fs::perms::owner_read | fs::perms::owner_write);
  write_file_atomically(out, "a\n2\n");
  CHECK(fs::status(out).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  // No temporary file is left beside it.
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) entries += e.path().filename().string()[0] == '.';
  CHECK(entries == 0);
  // A character device is written to, never replaced by a regular file.
  const fs::path to_null = dir / "null";
  fs::create_symlink("/dev/null", to_null);
  write_file_atomically(to_null, "discarded\n");
  CHECK(fs::is_symlink(to_null));
  CHECK(fs::is_character_file("/dev/null"));
  // A folder or a FIFO without a reader is refused; a missing folder is named.
  CHECK_THROWS_WITH(write_file_atomically(dir, "x"),
                    Contains(dir.string() + ": is a folder; refusing to replace it"));
  const fs::path fifo = dir / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(write_file_atomically(fifo, "x"), Contains("fifo: cannot write"));
  CHECK(fs::is_fifo(fifo));
  CHECK_THROWS_WITH(write_file_atomically(dir / "none" / "x.csv", "x"),
                    Contains("x.csv: cannot write: the folder '" + (dir / "none").string() +
                             "' does not exist"));
  CHECK_THROWS_WITH(check_output_file(dir / "none" / "x.csv"), Contains("does not exist"));
  CHECK(check_output_file(out) == output_kind::replace);
  CHECK(check_output_file("/dev/null") == output_kind::stream);
  fs::remove_all(dir);
}

TEST_CASE("runs: energies outside 0 to 1e15 J and absurd depths name file line and value",
          "[io][runs][errors][security]") {
  auto read = [](const std::string& body) {
    return read_generic_runs(csv_table::parse(generic_header_line + body, "m.csv"));
  };
  CHECK(*read("a,cpu,13 13 1,4,1,3078,770,256,3000,1e15\n")[0].energy_j == Approx(1e15));
  CHECK_THROWS_WITH(read("a,cpu,13 13 1,4,1,3078,770,256,3000,1e200\n"),
                    Contains("m.csv:2: column 'energy_j': energy must be in (0, 1e+15] J (value "
                             "'1e200')"));
  CHECK_THROWS_WITH(read("a,cpu,13 13 1,4,1,3078,770,256,3000,1e400\n"),
                    Contains("m.csv:2: column 'energy_j': energy must be finite"));
  CHECK_THROWS_WITH(read("a,cpu,13 13 1,4,1,3078,770,256,3000,nan\n"),
                    Contains("m.csv:2: column 'energy_j': energy must be finite"));
  CHECK_THROWS_WITH(read("a,cpu,13 13 1,4,1,3078,770,256,3000,0\n"),
                    Contains("m.csv:2: column 'energy_j': energy must be in (0, 1e+15] J"));
  const std::string shaped =
      "hardware,shape,size,depth,inputs,outputs,train_examples,eval_examples,batch,epochs,"
      "energy_j\n";
  CHECK_THROWS_WITH(
      read_generic_runs(csv_table::parse(
          shaped + "cpu,rectangle,1024,4294967299,784,10,1,1,1,1,1\n", "d.csv")),
      Contains("d.csv:2: column 'depth': depth must be at most 4096 (value '4294967299')"));
  std::string many = "a,cpu,";
  for (int i = 0; i < 5000; ++i) many += "1 ";
  CHECK_THROWS_WITH(read(many + ",4,1,3078,770,256,3000,5\n"),
                    Contains("m.csv:2: column 'widths': more than 4096 layers"));
}
