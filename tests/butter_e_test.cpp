// The BUTTER-E loader: the shipped sample, schema detection, and every bad-row error.
#include "wsenergy/io/butter_e.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

using namespace wsenergy;
using namespace wsenergy::io;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

const std::string sample = std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv";

const std::string header =
    "run_id,params,depth,epochs,batch_size,target,family,source_dataset,is_gpu,n_observations,"
    "n_features,n_classes,shape_exponential,shape_rectangle,shape_trapezoid\n";

/// One row of the header above: a rectangle on 201_pol unless changed.
std::string row(const std::string& params = "128", const std::string& target = "1000.5",
                const std::string& observations = "15000.0", const std::string& shapes = "0,1,0",
                const std::string& depth = "6", const std::string& gpu = "0") {
  return fmt::format("r1,{},{},3000,256,{},MLP,BUTTER-E,{},{},48.0,11.0,{}\n", params, depth,
                     target, gpu, observations, shapes);
}

fs::path write_temp(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / fmt::format("wsenergy-butter-{}-{}", ::getpid(), name);
  std::ofstream(p) << text;
  return p;
}

std::vector<measured_run> parse(const std::string& text) {
  return read_butter_e_runs(csv_table::parse(text, "runs.csv"));
}

}  // namespace

TEST_CASE("the shipped sample loads every row both devices real widths", "[butter_e]") {
  const auto runs = read_runs(sample);
  REQUIRE(runs.size() == 4351);
  std::size_t gpu = 0;
  for (const auto& r : runs) {
    gpu += r.is_gpu == 1 ? 1 : 0;
    CHECK(r.energy_j.value_or(-1) > 0);
    CHECK(r.run.batch == 256);
    CHECK(r.run.epochs == 3000);
    CHECK(r.hardware == (r.is_gpu ? "eagle_gpu" : "eagle_cpu"));
  }
  CHECK(gpu == 1873);
  // First row: 201_pol (26 inputs, 11 outputs), wide_first_4x, depth 6, 128 parameters.
  const auto& first = runs.front();
  CHECK(first.run_id == "0006e91f-3992-42ea-8c60-eaeb0ece0e0e");
  CHECK(first.dataset == "201_pol");
  CHECK(first.inputs == 26);
  CHECK(first.depth() == 6);
  CHECK(first.outputs() == 11);
  const auto match = search_size(shape::wide_first_4x, 6, 26, 11, 128);
  CHECK(first.widths == match.widths);
  CHECK(first.run.train_examples == 12000);
  CHECK(first.run.eval_examples == 3000);
  CHECK(*first.energy_j == Approx(137186.38368));
  CHECK(first.duration_s.value_or(0) == Approx(437.34354));
}

TEST_CASE("read_runs tells the schemas apart by their header", "[butter_e]") {
  const auto b = write_temp("b.csv", header + row());
  CHECK(detect_schema(csv_table::read(b)) == runs_schema::butter_e);
  CHECK(read_runs(b).front().dataset == "201_pol");
  const auto g = write_temp(
      "g.csv",
      "run_id,hardware,widths,inputs,outputs,train_examples,eval_examples,batch,epochs,energy_j\n"
      "x,my-node,64 1,8,1,800,200,32,5,12.5\n");
  CHECK(detect_schema(csv_table::read(g)) == runs_schema::generic);
  const auto runs = read_runs(g);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].hardware == "my-node");
  CHECK(runs[0].is_gpu == -1);
  fs::remove(b);
  fs::remove(g);
}

TEST_CASE("bad BUTTER-E rows name the file line column and value", "[butter_e][errors]") {
  CHECK_THROWS_WITH(parse(header + row("128", "abc")),
                    Contains("runs.csv:2") && Contains("'target'") && Contains("'abc'"));
  CHECK_THROWS_WITH(parse(header + row("128", "-3")),
                    Contains("runs.csv:2: column 'target': energy must be in (0, 1e+15] J "
                             "(value '-3')"));
  CHECK_THROWS_WITH(parse(header + row("128", "1e200")),
                    Contains("runs.csv:2: column 'target': energy must be in (0, 1e+15] J "
                             "(value '1e200')"));
  CHECK_THROWS_WITH(parse(header + row("128", "10", "12345")),
                    Contains("runs.csv:2") && Contains("'n_observations'") &&
                        Contains("no BUTTER data set") && Contains("'12345'"));
  CHECK_THROWS_WITH(parse(header + row("128", "10", "15000", "0,0,0")),
                    Contains("runs.csv:2") && Contains("no shape"));
  CHECK_THROWS_WITH(parse(header + row("128", "10", "15000", "1,1,0")),
                    Contains("runs.csv:2") && Contains("'shape_exponential'") && Contains("already rectangle") &&
                        Contains("second shape"));
  // 32 parameters cannot be reached by a depth-20 network on mnist's 784 inputs.
  CHECK_THROWS_WITH(parse(header + row("32", "10", "70000", "0,1,0", "20")),
                    Contains("runs.csv:2") && Contains("'params'") &&
                        Contains("size search") && Contains("'32'"));
  CHECK_THROWS_WITH(parse(header + row("128", "10", "15000", "0,1,0", "6", "2")),
                    Contains("'is_gpu'") && Contains("'2'"));
  CHECK_THROWS_WITH(parse(header + row("128", "10", "15000", "0,1,0", "1")),
                    Contains("'depth'") && Contains("at least 2"));
  std::string no_target = header;
  no_target.replace(no_target.find("target"), 6, "energy");
  CHECK_THROWS_WITH(parse(no_target + row()),
                    Contains("runs.csv:1") && Contains("no column 'target'"));
  const std::string no_shapes =
      "run_id,params,depth,epochs,batch_size,target,is_gpu,n_observations\nr,128,6,3000,256,1,0,"
      "15000\n";
  CHECK_THROWS_WITH(parse(no_shapes), Contains("runs.csv:1") && Contains("shape_"));
}

TEST_CASE("empty and header-only files are errors naming the file", "[butter_e][errors]") {
  const auto empty = write_temp("empty.csv", "");
  CHECK_THROWS_WITH(read_runs(empty), Contains(empty.string()) && Contains("empty"));
  const auto only_header = write_temp("header.csv", header);
  CHECK_THROWS_WITH(read_runs(only_header), Contains(only_header.string()) && Contains("no runs"));
  CHECK_THROWS_WITH(read_runs(fs::temp_directory_path() / "wsenergy-no-such-file.csv"),
                    Contains("cannot open"));
  fs::remove(empty);
  fs::remove(only_header);
}
