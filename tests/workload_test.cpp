#include "wsenergy/workload.hpp"

#include <cmath>

#include <catch2/catch.hpp>

#include "wsenergy/presets.hpp"

using namespace wsenergy;
using Catch::Matchers::Contains;

TEST_CASE("the 80/20 split gives the study's batch counts for every data set", "[workload]") {
  for (const dataset_info& d : butter_datasets) {
    const training_run run = butter_run(d);
    INFO(d.name);
    CHECK(run.observations() == d.observations);
    const double n = static_cast<double>(d.observations);
    CHECK(run.train_steps_per_epoch() == static_cast<std::int64_t>(std::ceil(0.8 * n / 256)));
    CHECK(run.eval_steps_per_epoch() == static_cast<std::int64_t>(std::ceil(0.2 * n / 256)));
  }
}

TEST_CASE("a run's counts follow the accounting of docs/model.md section 6", "[workload]") {
  const mlp<float> net(4, {13, 13, 1});
  const training_run run = butter_run(dataset_named("529_pollen"), 256, 10);  // 13 + 4 steps
  const run_analysis a = analyze_run(presets::eagle_cpu, net, run);
  const run_counts& c = a.counts;
  CHECK(c.levels == 4);
  CHECK(c.epochs == 10);
  CHECK(c.train_steps == 130);
  CHECK(c.eval_steps == 40);
  CHECK(c.layer_train_steps == 390);
  CHECK(c.layer_eval_steps == 120);
  const batch_operations ops = net.operations(256);
  CHECK(c.operations == Approx(130 * (ops.forward + ops.backward) + 40 * ops.forward));
  // Everything of this small network sits in L1: the traffic is the closed form.
  const double layers = 4.0 * 256 * ((4 + 13) + (13 + 13) + (13 + 1));
  const double p = 4.0 * 261;
  const double expected = (3 * 130 + 40) * layers + (2 * 130 + 40) * p + 2 * 130 * 2 * p +
                          10 * 4.0 * 3848 * (4 + 1);
  CHECK(c.bytes_by_level[0] == Approx(expected));
  CHECK(c.bytes_by_level[1] == 0);
  CHECK(c.total_bytes() == Approx(expected));
}

TEST_CASE("traffic moves to slower levels as the network grows", "[workload]") {
  const training_run run = butter_run(dataset_named("mnist"));
  const auto small = mlp<float>::from_shape(shape::rectangle, 3, 784, 10, 1 << 11);
  const auto large = mlp<float>::from_shape(shape::rectangle, 3, 784, 10, 1 << 24);
  const run_analysis s = analyze_run(presets::eagle_cpu, small, run);
  const run_analysis l = analyze_run(presets::eagle_cpu, large, run);
  CHECK(s.sets.forward.level == 0);
  CHECK(l.sets.forward.level == 3);  // 64 MiB of parameters do not fit in L1 + L2 + L3 (25.8 MiB)
  CHECK(l.sets.backward.level > s.sets.backward.level);
  CHECK(l.counts.bytes_by_level[3] > 0);
}

TEST_CASE("every traffic item is counted once at the level it landed in", "[workload]") {
  const auto net = mlp<float>::from_shape(shape::trapezoid, 6, 26, 11, 1 << 18);
  const training_run run = butter_run(dataset_named("201_pol"));
  double visited = 0;
  int items = 0;
  const std::vector<std::int64_t> full = net.full_widths();
  visit_traffic(presets::eagle_gpu.levels(), full, net.parameters(), run, 4, {},
                [&](const traffic_item& t) {
                  visited += t.bytes;
                  ++items;
                  CHECK(t.bytes > 0);
                });
  CHECK(items == net.depth() + 3);
  CHECK(analyze_run(presets::eagle_gpu, net, run).counts.total_bytes() == Approx(visited));
}

TEST_CASE("the raw-feature quirk changes only the data-set bytes", "[workload]") {
  const auto net = mlp<float>::from_shape(shape::rectangle, 3, 26, 11, 1 << 12);
  training_run run = butter_run(dataset_named("201_pol"));
  const run_counts plain = analyze_run(presets::eagle_cpu, net, run).counts;
  run.values_per_example = 48 + 11;  // PMLB's raw feature count, as the authors' analysis did
  const run_counts raw = analyze_run(presets::eagle_cpu, net, run).counts;
  CHECK(raw.operations == plain.operations);
  CHECK(raw.total_bytes() - plain.total_bytes() == Approx(3000.0 * 4 * 15000 * (48 - 26)));
}

TEST_CASE("bad runs are rejected with the field and value", "[workload][errors]") {
  const mlp<float> net(4, {13, 13, 1});
  training_run run = butter_run(dataset_named("529_pollen"));
  run.batch = 0;
  CHECK_THROWS_WITH(analyze_run(presets::eagle_cpu, net, run), Contains("batch") && Contains("0"));
  run.batch = 256;
  run.epochs = -1;
  CHECK_THROWS_WITH(analyze_run(presets::eagle_cpu, net, run), Contains("epochs") && Contains("-1"));
  run.epochs = 1;
  run.train_examples = 0;
  CHECK_THROWS_WITH(analyze_run(presets::eagle_cpu, net, run), Contains("training examples"));
}
