// The built-in trainer's step time against the rate Eigen reaches for the same matrix products.
//
// bm_train_step runs full Adam steps of `wsenergy train` (forward, backward, update);
// bm_gemm_only runs just the matrix products of one step, with the same shapes, on the same
// machine and compiler flags. Both report "GFLOP/s" counted on the products' FLOPs
// (gemm_flops_per_step), so their ratio is the share of the step the products could explain:
// trainer GFLOP/s / GEMM GFLOP/s = GEMM time / step time.
// Arguments: hidden width w (network `inputs -> w -> w -> 10`, inputs 32), batch.
#include <benchmark/benchmark.h>

#include "wsenergy/measure/trainer.hpp"

namespace {

using namespace wsenergy::measure;
using matrix = mlp_trainer::matrix;

trainer_config config_for(const benchmark::State& state) {
  trainer_config c;
  c.inputs = 32;
  c.widths = {state.range(0), state.range(0), 10};
  c.batch = state.range(1);
  c.train_examples = c.batch;
  return c;
}

void bm_train_step(benchmark::State& state) {
  const trainer_config c = config_for(state);
  mlp_trainer t(c);
  const matrix x = t.train_inputs();
  const matrix y = t.train_targets();
  for (auto _ : state) benchmark::DoNotOptimize(t.step(x, y));
  const double flops = gemm_flops_per_step(c.inputs, c.widths, c.batch);
  state.SetItemsProcessed(state.iterations());
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

void bm_gemm_only(benchmark::State& state) {
  const trainer_config c = config_for(state);
  const auto batch = static_cast<Eigen::Index>(c.batch);
  std::vector<matrix> w, a, z, dz, gw;
  Eigen::Index prev = c.inputs;
  a.push_back(matrix::Random(prev, batch));
  for (auto width : c.widths) {
    w.push_back(matrix::Random(width, prev));
    z.push_back(matrix::Zero(width, batch));
    a.push_back(matrix::Random(width, batch));
    dz.push_back(matrix::Random(width, batch));
    gw.push_back(matrix::Zero(width, prev));
    prev = width;
  }
  matrix da;
  for (auto _ : state) {
    for (std::size_t k = 0; k < w.size(); ++k) z[k].noalias() = w[k] * a[k];
    for (std::size_t k = w.size(); k-- > 0;) {
      gw[k].noalias() = dz[k] * a[k].transpose();
      if (k > 0) dz[k - 1].noalias() = w[k].transpose() * dz[k];
    }
    benchmark::DoNotOptimize(gw.front().data());
    benchmark::ClobberMemory();
  }
  const double flops = gemm_flops_per_step(c.inputs, c.widths, c.batch);
  state.SetItemsProcessed(state.iterations());
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int w : {64, 256, 1024}) b->Args({w, 256});
  b->Args({256, 32});
}

BENCHMARK(bm_train_step)->Apply(sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_gemm_only)->Apply(sizes)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
