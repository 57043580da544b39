// The whole BUTTER grid: 13 data sets x 8 shapes x 14 depths x 20 sizes, on both Eagle presets.
// Items are (network, hardware) configurations; a rejected size counts as one configuration
// searched and skipped, as it is in a real sweep.
#include <benchmark/benchmark.h>

#include "wsenergy/wsenergy.hpp"

namespace {

using namespace wsenergy;

coefficients<double> placeholder(std::size_t levels) {
  coefficients<double> k;  // arbitrary positive values: the benchmark measures work, not joules
  k.levels = levels;
  k.per_unit_j.fill(1e-3);
  for (std::size_t l = 0; l < levels; ++l) k.per_byte_j[l] = 1e-12 * double(l + 1);
  return k;
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

// Search, placement, traffic accounting and prediction: the full pipeline per configuration.
void bm_grid(benchmark::State& state) {
  const hierarchy cpu(presets::eagle_cpu);
  const hierarchy gpu(presets::eagle_gpu);
  const auto kc = placeholder(cpu.size());
  const auto kg = placeholder(gpu.size());
  std::int64_t items = 0;
  for (auto _ : state) {
    double total = 0;
    for (const auto& d : butter_datasets) {
      const training_run run = butter_run(d);
      for (shape s : butter_shapes)
        for (int depth : butter_depths)
          for (std::int64_t size : butter_sizes) {
            items += 2;
            size_match m = search_size(s, depth, d.inputs, d.outputs, size);
            if (!m.accepted) continue;
            const mlp<float> net(d.inputs, std::move(m.widths));
            total += predict_energy(kc, analyze_run(cpu, net, run).counts).total_j;
            total += predict_energy(kg, analyze_run(gpu, net, run).counts).total_j;
          }
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(items);
}
BENCHMARK(bm_grid)->Unit(benchmark::kMillisecond);

// Placement and prediction alone for one network, across sizes that cross the cache edges.
void bm_place_predict(benchmark::State& state) {
  const auto net = mlp<float>::from_shape(shape::rectangle, 4, 784, 10, state.range(0));
  const training_run run = butter_run(dataset_named("mnist"));
  const auto k = placeholder(4);
  for (auto _ : state)
    benchmark::DoNotOptimize(predict_energy(k, analyze_run(presets::eagle_cpu, net, run).counts));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(bm_place_predict)->RangeMultiplier(16)->Range(1 << 12, 1 << 24);

}  // namespace

BENCHMARK_MAIN();
