// The whole BUTTER grid: 13 data sets x 8 shapes x 14 depths x 20 sizes, on both Eagle presets.
// Items are (network, hardware) configurations; a rejected size counts as one configuration
// searched and skipped, as it is in a real sweep.
#include <benchmark/benchmark.h>

#include "wsenergy/wsenergy.hpp"

namespace {

using namespace wsenergy;

/// The default model of a hierarchy (docs/model.md section 8: host-cpu terms on a CPU node,
/// host-gpu terms on a GPU node, training-only traffic, hard placement) with arbitrary positive
/// coefficients over its slots: the benchmark measures work, not joules.
energy_model<double> placeholder(const hierarchy& h, bool gpu) {
  model_form form;
  form.terms = gpu ? term_sets::host_gpu : term_sets::host_cpu;
  form.accounting = traffic_accounting::training_only();
  std::array<double, max_slots> c{};
  for (std::size_t s : active_slots(form.terms, h.size())) c[s] = 1e-12 * double(s + 1);
  return energy_model<double>(h, form, c);
}

// Size search only.
void bm_size_search(benchmark::State& state) {
  std::int64_t items = 0;
  for (auto _ : state) {
    for (const auto& d : butter_datasets)
      for (shape s : butter_shapes)
        for (int depth : butter_depths)
          for (std::int64_t size : butter_sizes) {
            benchmark::DoNotOptimize(search_size(s, depth, d.inputs, d.outputs, size));
            ++items;
          }
  }
  state.SetItemsProcessed(items);
}
BENCHMARK(bm_size_search)->Unit(benchmark::kMillisecond);

/// Calls `per_network(net, run)` for every network of the BUTTER grid the size search accepts,
/// and counts two configurations (both Eagle presets) per size searched, rejected ones included.
template <typename PerNetwork>
std::int64_t for_each_grid_network(PerNetwork&& per_network) {
  std::int64_t items = 0;
  for (const auto& d : butter_datasets) {
    const training_run run = butter_run(d);
    for (shape s : butter_shapes)
      for (int depth : butter_depths)
        for (std::int64_t size : butter_sizes) {
          items += 2;
          size_match m = search_size(s, depth, d.inputs, d.outputs, size);
          if (!m.accepted) continue;
          per_network(mlp<float>(d.inputs, std::move(m.widths)), run);
        }
  }
  return items;
}

// Search, then the one analysis (`analyze`: placement, traffic accounting and every term's
// count) and the prediction from it, with the default model of each node: the full pipeline per
// configuration.
void bm_grid(benchmark::State& state) {
  const energy_model<double> cpu = placeholder(hierarchy(presets::eagle_cpu), false);
  const energy_model<double> gpu = placeholder(hierarchy(presets::eagle_gpu), true);
  std::int64_t items = 0;
  for (auto _ : state) {
    double total = 0;
    items += for_each_grid_network([&](const mlp<float>& net, const training_run& run) {
      total += cpu.predict(cpu.analyze(net, run)).total_j;
      total += gpu.predict(gpu.analyze(net, run)).total_j;
    });
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(items);
}
BENCHMARK(bm_grid)->Unit(benchmark::kMillisecond);

// The analysis alone (no prediction) over the same grid, default model forms.
void bm_grid_analyze(benchmark::State& state) {
  const energy_model<double> cpu = placeholder(hierarchy(presets::eagle_cpu), false);
  const energy_model<double> gpu = placeholder(hierarchy(presets::eagle_gpu), true);
  std::int64_t items = 0;
  for (auto _ : state) {
    double steps = 0;
    items += for_each_grid_network([&](const mlp<float>& net, const training_run& run) {
      steps += cpu.analyze(net, run).counts.train_steps;
      steps += gpu.analyze(net, run).counts.train_steps;
    });
    benchmark::DoNotOptimize(steps);
  }
  state.SetItemsProcessed(items);
}
BENCHMARK(bm_grid_analyze)->Unit(benchmark::kMillisecond);

// Analysis and prediction alone for one network, across sizes that cross the cache edges
// (eagle_cpu, host-cpu form).
void bm_place_predict(benchmark::State& state) {
  const auto net = mlp<float>::from_shape(shape::rectangle, 4, 784, 10, state.range(0));
  const training_run run = butter_run(dataset_named("mnist"));
  const energy_model<double> model = placeholder(hierarchy(presets::eagle_cpu), false);
  for (auto _ : state) benchmark::DoNotOptimize(model.predict(net, run).total_j);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_place_predict)->RangeMultiplier(16)->Range(1 << 12, 1 << 24);

}  // namespace

BENCHMARK_MAIN();
