// Fitting speed: the Ceres fitter on N runs of the shipped sample (eagle_cpu): the default recipe
// (host-overhead terms, threshold search, ordered bytes, L1 loss, hard placement), and the
// reference form with hard and smooth placement. Budget on the 2-core development machine: the
// 2,478 CPU runs with the default recipe in under 5 s, threshold search included.
#include <random>

#include <benchmark/benchmark.h>

#include "wsenergy/fit/fitter.hpp"
#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/presets.hpp"

namespace {

using namespace wsenergy;

const hierarchy& cpu() {
  static const hierarchy h(presets::eagle_cpu);
  return h;
}

/// N observations: the sample's CPU runs, repeated with 5 % multiplicative noise on the energy
/// when N exceeds them (the same networks, as repeat runs of one configuration would be).
std::vector<fit::observation> runs(std::size_t n) {
  static const std::vector<fit::observation> base = [] {
    std::vector<io::measured_run> r;
    for (auto& m : io::read_runs(std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv"))
      if (m.is_gpu == 0) r.push_back(std::move(m));
    return fit::prepare(cpu(), r);
  }();
  std::vector<fit::observation> out;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0.0, 0.05);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(base[i % base.size()]);
    if (i >= base.size()) out.back().energy_j *= 1 + noise(rng);
  }
  return out;
}

void fit_runs(benchmark::State& state, fit::fit_options o) {
  const auto obs = runs(static_cast<std::size_t>(state.range(0)));
  bool converged = true;
  for (auto _ : state) {
    const fit::fit_result r = fit::fit_model(cpu(), obs, o);
    converged = converged && r.converged;
    benchmark::DoNotOptimize(r.model.coefficients()[0]);
  }
  state.counters["converged"] = converged ? 1 : 0;
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

fit::fit_options reference(placement_mode mode) {
  fit::fit_options o;
  o.form.placement = mode;
  return o;
}

void bm_fit_default(benchmark::State& state) { fit_runs(state, fit::default_options(false)); }
void bm_fit_hard(benchmark::State& state) { fit_runs(state, reference(placement_mode::hard)); }
void bm_fit_smooth(benchmark::State& state) { fit_runs(state, reference(placement_mode::smooth)); }

}  // namespace

BENCHMARK(bm_fit_default)->Arg(2478)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(bm_fit_hard)->Arg(300)->Arg(1000)->Arg(3000)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_fit_smooth)->Arg(300)->Arg(3000)->Unit(benchmark::kMillisecond)->Iterations(1);

BENCHMARK_MAIN();
