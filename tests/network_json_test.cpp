// A network and its run, the same way everywhere: value types, width lists, runs from examples or
// data sets, a network from a shape or widths, and network files (io/network_json.hpp).
#include "wsenergy/io/network_json.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "wsenergy/advisor.hpp"
#include "wsenergy/energy_model.hpp"
#include "wsenergy/fitted.hpp"
#include "wsenergy/io/runs.hpp"

using namespace wsenergy;
using namespace wsenergy::io;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;

namespace {

fs::path write_temp(const std::string& name, const std::string& text) {
  const fs::path p =
      fs::temp_directory_path() / ("wsenergy-network-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p) << text;
  return p;
}

/// The issue's example: 784-1024-512-10 on MNIST's 60,000 + 10,000 examples, batch 128, 20 epochs.
network_request mnist_mlp() {
  network_request q;
  q.inputs = 784;
  q.widths = std::vector<std::int64_t>{1024, 512, 10};
  q.train_examples = 60000;
  q.eval_examples = 10000;
  q.batch = 128;
  q.epochs = 20;
  return q;
}

}  // namespace

TEST_CASE("value types have a name and bytes per value", "[dtype]") {
  STATIC_REQUIRE(bytes_per_value(dtype::fp32) == 4);
  STATIC_REQUIRE(bytes_per_value(dtype::fp16) == 2);
  STATIC_REQUIRE(bytes_per_value(dtype::bf16) == 2);
  STATIC_REQUIRE(bytes_per_value(dtype::fp64) == 8);
  for (dtype t : all_dtypes) CHECK(parse_dtype(to_string(t)) == t);
  CHECK_THROWS_WITH(parse_dtype("fp8"), Contains("dtype: unknown value type 'fp8'") &&
                                            Contains("fp32, fp16, bf16, fp64"));
  CHECK_FALSE(dtype_from_name("FP32"));
}

TEST_CASE("widths are read with commas or spaces and strictly", "[widths]") {
  const std::vector<std::int64_t> w = {1024, 512, 10};
  CHECK(parse_widths("1024,512,10") == w);
  CHECK(parse_widths("1024 512 10") == w);
  CHECK(parse_widths(" 1024, 512 ,10 ") == w);
  CHECK(parse_widths("1024;512|10") == w);
  CHECK_THROWS_WITH(parse_widths("1024,,10"), Contains("widths '1024,,10': entry 2 is empty"));
  CHECK_THROWS_WITH(parse_widths("1024,512,"), Contains("entry 3 is empty"));
  CHECK_THROWS_WITH(parse_widths(""), Contains("entry 1 is empty"));
  CHECK_THROWS_WITH(parse_widths("1024,0,10"), Contains("widths must be positive, entry 2 is 0"));
  CHECK_THROWS_WITH(parse_widths("1024,-5,10"), Contains("entry 2 is -5"));
  CHECK_THROWS_WITH(parse_widths("1024,x,10"),
                    Contains("expected a whole number at entry 2 ('x')"));
  CHECK_THROWS_WITH(parse_widths("1024,1.5"), Contains("entry 2 ('1.5')"));
  CHECK_THROWS_WITH(parse_widths("10"), Contains("at least two layers"));
}

TEST_CASE("a run from examples or from the rows of a data set", "[resolve]") {
  const dataset_info& mnist = dataset_named("mnist");
  run_request q;
  q.train_examples = 60000;
  q.eval_examples = 10000;
  q.batch = 128;
  q.epochs = 20;
  const training_run r = run_of(std::nullopt, q);
  CHECK(r.train_examples == 60000);
  CHECK(r.eval_examples == 10000);
  CHECK(r.batch == 128);
  CHECK(r.epochs == 20);
  q.eval_examples.reset();
  CHECK(run_of(std::nullopt, q).eval_examples == 0);  // explicit networks: no evaluation
  CHECK(run_of(mnist, q).eval_examples == 10000);     // the data set's rest
  q.train_examples.reset();
  CHECK(run_of(mnist, q).train_examples == 56000);  // the study's 80/20 split
  q.eval_examples = 5000;
  CHECK(run_of(mnist, q).train_examples == 65000);
  q.eval_examples = 80000;
  CHECK_THROWS_WITH(run_of(mnist, q),
                    Contains("eval_examples: 80000 evaluation examples leave no training example "
                             "in the 70000 rows of data set 'mnist'"));
  q.eval_examples = 10;
  q.train_examples = 69991;
  CHECK_THROWS_WITH(run_of(mnist, q), Contains("train_examples: 69991 training and 10 evaluation "
                                               "examples do not fit in the 70000 rows"));
  q.eval_examples = -1;
  CHECK_THROWS_WITH(run_of(mnist, q), Contains("eval_examples: must not be negative, got -1"));
  run_request none;
  CHECK_THROWS_WITH(run_of(std::nullopt, none), Contains("train_examples: give the training"));
  none.train_examples = 10;
  none.batch = 0;
  CHECK_THROWS_WITH(run_of(std::nullopt, none), Contains("batch: must be positive, got 0"));
  run_request rows;
  rows.observations = 100;
  rows.train_examples = 50;
  CHECK_THROWS_WITH(run_of(std::nullopt, rows), Contains("observations: 100 rows split 80/20"));
  rows.train_examples.reset();
  CHECK(run_of(std::nullopt, rows).train_examples == 80);
}

TEST_CASE("a network from a shape or from explicit widths", "[resolve]") {
  const resolved_network r = resolve_network(mnist_mlp());
  CHECK(r.net == mlp<float>(784, {1024, 512, 10}));
  CHECK(r.run.observations() == 70000);
  CHECK(r.type == dtype::fp32);
  CHECK(r.bytes_per_value() == 4);
  CHECK_FALSE(r.match);

  network_request s;
  s.shape = "rectangle";
  s.size = 16384;
  s.depth = 3;
  s.dataset = "mnist";
  const resolved_network b = resolve_network(s);
  CHECK(b.net.widths() == std::vector<std::int64_t>{20, 20, 10});
  CHECK(b.run.train_examples == 56000);  // the study's split stays the default for data sets
  CHECK(b.match->target_parameters == 16384);
  s.size = 1024;  // more than 20 % off: kept for topology, an error for a run
  CHECK_FALSE(resolve_network(s, network_use::topology).match->accepted);
  CHECK_THROWS_WITH(resolve_network(s), Contains("size: no rectangle network of depth 3"));

  network_request both = mnist_mlp();
  both.shape = "rectangle";
  CHECK_THROWS_WITH(resolve_network(both),
                    Contains("network: give a shape") && Contains("not both"));
  CHECK_THROWS_WITH(resolve_network(network_request{}), Contains("network: give a shape"));
  network_request no_inputs = mnist_mlp();
  no_inputs.inputs.reset();
  CHECK_THROWS_WITH(resolve_network(no_inputs), Contains("inputs: give the input width"));
  network_request wrong_out = mnist_mlp();
  wrong_out.inputs.reset();
  wrong_out.dataset = "201_pol";
  CHECK_THROWS_WITH(resolve_network(wrong_out),
                    Contains("widths: the last width (10) is the output width, 11 here"));
  network_request with_depth = mnist_mlp();
  with_depth.depth = 3;
  CHECK_THROWS_WITH(resolve_network(with_depth),
                    Contains("give a shape with size and depth, or widths"));
  network_request zero = mnist_mlp();
  zero.widths = std::vector<std::int64_t>{1024, 0, 10};
  CHECK_THROWS_WITH(resolve_network(zero), Contains("widths: layer 2 must have a positive width"));
}

TEST_CASE("the value type reaches the analysis", "[dtype]") {
  const energy_model<double> m = *fitted_model("eagle-cpu");
  network_request q = mnist_mlp();
  q.type = dtype::fp16;
  const resolved_network r = resolve_network(q);
  const run_profile half = m.analyze(r.net, r.run, r.bytes_per_value());
  const run_profile single = m.analyze(r.net, r.run);
  CHECK(half.counts.dataset_bytes == Approx(single.counts.dataset_bytes / 2));
  CHECK(half.counts.total_bytes() == Approx(single.counts.total_bytes() / 2));
  CHECK(m.predict(r.net, r.run, 4).total_j == Approx(m.predict(r.net, r.run).total_j));
  CHECK(m.predict(r.net, r.run, 2).total_j < m.predict(r.net, r.run).total_j);
  const run_analysis wide = analyze_run(m.hardware().levels(), r.net, r.run, 8);
  CHECK(wide.counts.dataset_bytes == Approx(2 * single.counts.dataset_bytes));
  CHECK(wide.counts.total_bytes() > single.counts.total_bytes());  // larger sets, more traffic
}

TEST_CASE("a network file gives the network and its run", "[network_json]") {
  const fs::path f = write_temp("mnist.json",
                                R"({"inputs":784,"widths":[1024,512,10],"dtype":"fp16",
                                    "train_examples":60000,"eval_examples":10000,"batch":128,
                                    "epochs":20})");
  const network_request q = read_network(f);
  network_request expected = mnist_mlp();
  const resolved_network r = resolve_network(q);
  CHECK(r.net == resolve_network(expected).net);
  CHECK(r.run.train_examples == 60000);
  CHECK(r.run.eval_examples == 10000);
  CHECK(r.run.batch == 128);
  CHECK(r.type == dtype::fp16);
  // What network_json writes reads back as the same network and run.
  const nlohmann::json j = network_json(r, network_use::run);
  const resolved_network back = resolve_network(network_from_json(j, "written"));
  CHECK(back.net == r.net);
  CHECK(back.run.observations() == r.run.observations());
  CHECK(back.run.epochs == 20);
  CHECK(back.type == dtype::fp16);
  // Options given besides replace the file's fields.
  network_request flags;
  flags.epochs = 5;
  network_request merged = q;
  merged.update(flags);
  CHECK(resolve_network(merged).run.epochs == 5);
  CHECK(resolve_network(merged).run.batch == 128);
  fs::remove(f);
}

TEST_CASE("a bad network file is one error naming the file and the field",
          "[network_json][errors]") {
  const auto rejects = [](const std::string& text, const std::string& what) {
    INFO(text);
    CHECK_THROWS_WITH(network_from_json(nlohmann::json::parse(text), "net.json"),
                      StartsWith("net.json: ") && Contains(what));
  };
  rejects(R"({"inputs":784,"widths":[10,10],"colour":"red"})", "unknown key 'colour'");
  rejects(R"({"inputs":"784"})", "field 'inputs' must be a positive whole number, got \"784\"");
  rejects(R"({"inputs":784.5})", "field 'inputs' must be a positive whole number, got 784.5");
  rejects(R"({"batch":0})", "field 'batch' must be a positive whole number, got 0");
  rejects(R"({"epochs":true})", "field 'epochs' must be a positive whole number, got true");
  rejects(R"({"eval_examples":-1})", "field 'eval_examples' must be a non-negative whole number");
  rejects(R"({"widths":"1024,10"})", "field 'widths' must be an array");
  rejects(R"({"widths":[10]})", "field 'widths' must be an array of 2 to");
  rejects(R"({"widths":[10,0]})", "field 'widths[1]' must be a positive whole number, got 0");
  rejects(R"({"widths":[10,-3]})", "field 'widths[1]' must be a positive whole number, got -3");
  rejects(R"({"dtype":"fp8"})", "field 'dtype' must be one of fp32, fp16, bf16, fp64, got \"fp8\"");
  rejects(R"({"dtype":4})", "field 'dtype' must be one of");
  rejects(R"({"inputs":4,"widths":[3,2],"parameters":7})",
          "field 'parameters' is 7, but 4 inputs and widths 3,2 have 23 parameters");
  rejects(R"([784])", "expected a JSON object");
  CHECK_THROWS_WITH(read_network(write_temp("bad.json", "{\"inputs\": 7,")),
                    Contains("bad.json: not valid JSON"));
  CHECK_THROWS_WITH(read_network(fs::temp_directory_path()), Contains("give a regular file"));
  // What topology --json adds besides the network is read past.
  const auto topo = nlohmann::json::parse(
      R"({"inputs":784,"outputs":10,"widths":[20,20,10],"parameters":16330,"dtype":"fp32",
          "relative_error":0.0033,"accepted":true,"dataset":"mnist"})");
  CHECK(
      resolve_network(network_from_json(topo, "t.json"), network_use::topology).net.parameters() ==
      16330);
}

TEST_CASE("an explicit network scaled to a size keeps its proportions", "[advisor]") {
  const std::vector<std::int64_t> base = {1024, 512, 10};
  CHECK(scaled_widths(base, 1024) == base);
  CHECK(scaled_widths(base, 100) == std::vector<std::int64_t>{100, 50, 10});
  CHECK(scaled_widths(base, 1) == std::vector<std::int64_t>{1, 1, 10});  // never below 1
  for (std::int64_t target :
       {std::int64_t{1} << 16, std::int64_t{1} << 20, std::int64_t{1} << 24}) {
    const size_match m = search_scaled_size(784, base, target);
    INFO(target);
    CHECK(m.accepted);
    CHECK(m.parameters == parameter_count(784, m.widths));
    CHECK(m.widths == scaled_widths(base, m.first_width));
    // No other widest width comes nearer the target.
    for (std::int64_t w : {m.first_width - 1, m.first_width + 1}) {
      const std::int64_t p = parameter_count(784, scaled_widths(base, w));
      CHECK(std::abs(p - target) >= std::abs(m.parameters - target));
    }
  }
  CHECK_FALSE(search_scaled_size(784, base, 100).accepted);  // 784 inputs: no 100-parameter MLP
  CHECK_THROWS_WITH(search_scaled_size(784, std::vector<std::int64_t>{10, 0}, 1000),
                    Contains("widths: layer 2 must have a positive width"));
}

TEST_CASE("runs files hold rows without a network", "[runs]") {
  const csv_table t = csv_table::parse(
      "run_id,hardware,widths,inputs,outputs,train_examples,eval_examples,batch,epochs,energy_j\n"
      "bare,host,,,,,,,,3.5\n"
      "net,host,\"8,2\",4,2,10,0,5,1,2\n",
      "r.csv");
  const std::vector<measured_run> runs = read_generic_runs(t);
  REQUIRE(runs.size() == 2);
  CHECK_FALSE(runs[0].has_network());
  CHECK(*runs[0].energy_j == 3.5);
  CHECK(runs[1].has_network());
  CHECK(runs[1].widths == std::vector<std::int64_t>{8, 2});  // commas, as --widths takes them
  const std::vector<std::string> fields = generic_fields(runs[0]);
  CHECK(fields[2].empty());
  CHECK(fields[3].empty());  // no network: empty cells, not zeros
  CHECK(fields[8].empty());
  CHECK_THROWS_WITH(read_generic_runs(csv_table::parse(
                        "hardware,widths,inputs,outputs,train_examples,eval_examples,batch,epochs,"
                        "energy_j\nhost,8 0,4,2,10,0,5,1,2\n",
                        "z.csv")),
                    Contains("z.csv:2: column 'widths': widths must be positive, entry 2 is 0"));
  // The value type of a run: a `dtype` column, fp32 when absent or empty.
  const std::string head =
      "hardware,widths,inputs,outputs,train_examples,eval_examples,batch,epochs,energy_j,dtype\n";
  const auto typed = read_generic_runs(
      csv_table::parse(head + "host,8 2,4,2,10,0,5,1,2,fp16\nhost,8 2,4,2,10,0,5,1,2,\n", "d.csv"));
  CHECK(typed[0].type == dtype::fp16);
  CHECK(typed[1].type == dtype::fp32);
  CHECK(runs[0].type == dtype::fp32);
  CHECK_THROWS_WITH(
      read_generic_runs(csv_table::parse(head + "host,8 2,4,2,10,0,5,1,2,int8\n", "d.csv")),
      Contains("d.csv:2: column 'dtype': expected one of fp32, fp16, bf16, fp64"));
}
