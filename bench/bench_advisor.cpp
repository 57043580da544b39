// The advisor as a hyper-parameter search would use it: one candidate = size search + placement +
// traffic accounting + prediction. Items are candidates (a size the search rejects counts as one
// candidate evaluated, as it does in a real search). Single thread.
#include <benchmark/benchmark.h>

#include <vector>

#include "wsenergy/advisor.hpp"
#include "wsenergy/datasets.hpp"
#include "wsenergy/presets.hpp"

namespace {

using namespace wsenergy;

/// The default form of a hierarchy's model (docs/model.md section 8): host-cpu terms on a CPU
/// node, host-gpu terms on a GPU node, with training-only traffic.
model_form default_form(bool gpu, placement_mode mode) {
  model_form f;
  f.terms = gpu ? term_sets::host_gpu : term_sets::host_cpu;
  f.accounting = traffic_accounting::training_only();
  f.placement = mode;
  return f;
}

energy_model<double> placeholder(const hierarchy& h, bool gpu, placement_mode mode) {
  // Arbitrary positive values over the form's slots: this measures work, not joules.
  const model_form form = default_form(gpu, mode);
  std::array<double, max_slots> c{};
  for (std::size_t s : active_slots(form.terms, h.size())) c[s] = 1e-12 * double(s + 1);
  return energy_model<double>(h, form, c);
}

/// The BUTTER grid of one data set: 8 shapes x 14 depths x 20 sizes = 2240 candidates.
std::vector<candidate> butter_candidates() {
  std::vector<candidate> c;
  for (shape s : butter_shapes)
    for (int depth : butter_depths)
      for (std::int64_t size : butter_sizes) c.push_back({s, depth, size});
  return c;
}

/// Every candidate of the grid for every data set, on eagle_cpu (arg 0, host-cpu form) or eagle_gpu
/// (arg 1, host-gpu form), with hard (arg 0) or smooth (arg 1) placement; evaluated into a
/// preallocated span.
void bm_evaluate_grid(benchmark::State& state) {
  const hierarchy h =
      state.range(0) == 0 ? hierarchy(presets::eagle_cpu) : hierarchy(presets::eagle_gpu);
  const auto model = placeholder(
      h, state.range(0) == 1, state.range(1) == 0 ? placement_mode::hard : placement_mode::smooth);
  std::vector<advisor> advisors;
  for (const dataset_info& d : butter_datasets)
    advisors.emplace_back(model, d.inputs, d.outputs, butter_run(d));
  const std::vector<candidate> candidates = butter_candidates();
  std::vector<candidate_evaluation> out(candidates.size());
  std::int64_t items = 0;
  for (auto _ : state) {
    for (const advisor& a : advisors) {
      a.evaluate(candidates, out);
      benchmark::DoNotOptimize(out.data());
      items += static_cast<std::int64_t>(candidates.size());
    }
  }
  state.SetItemsProcessed(items);
  state.SetLabel(h.name() + (state.range(1) == 0 ? " hard" : " smooth"));
}
BENCHMARK(bm_evaluate_grid)
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond);

/// One shape at a time, to show which shapes cost more (mnist, eagle_cpu, host-cpu form, hard
/// placement).
void bm_evaluate_shape(benchmark::State& state) {
  const hierarchy h(presets::eagle_cpu);
  const dataset_info& d = dataset_named("mnist");
  const advisor a(placeholder(h, false, placement_mode::hard), d.inputs, d.outputs, butter_run(d));
  const auto s = butter_shapes[static_cast<std::size_t>(state.range(0))];
  std::vector<candidate> candidates;
  for (int depth : butter_depths)
    for (std::int64_t size : butter_sizes) candidates.push_back({s, depth, size});
  std::vector<candidate_evaluation> out(candidates.size());
  for (auto _ : state) {
    a.evaluate(candidates, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(candidates.size()));
  state.SetLabel(std::string(to_string(s)));
}
BENCHMARK(bm_evaluate_shape)->DenseRange(0, 7);

/// Whole sweeps as the `advise` command runs them: 20 sizes with widths, spill points and the
/// optimum (this allocates: one vector of widths per size). Items are sizes.
void bm_sweep(benchmark::State& state) {
  const hierarchy h(presets::eagle_cpu);
  const dataset_info& d = dataset_named("201_pol");
  const advisor a(placeholder(h, false, placement_mode::hard), d.inputs, d.outputs, butter_run(d));
  const std::vector<std::int64_t> sizes(butter_sizes.begin(), butter_sizes.end());
  std::int64_t items = 0;
  for (auto _ : state)
    for (shape s : butter_shapes)
      for (int depth : butter_depths) {
        benchmark::DoNotOptimize(a.sweep(s, depth, sizes));
        items += static_cast<std::int64_t>(sizes.size());
      }
  state.SetItemsProcessed(items);
}
BENCHMARK(bm_sweep)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
