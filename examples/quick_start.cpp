// The README's quick start: a BUTTER network, where its working sets land, and what a run moves.
#include <wsenergy/wsenergy.hpp>

#include <fmt/core.h>

int main() {
  using namespace wsenergy;
  const auto net = mlp<float>::from_shape(shape::rectangle, 3, 784, 10, 1 << 16);  // mnist
  const auto run = butter_run(dataset_named("mnist"));  // 80/20 split, batch 256, 3000 epochs
  const auto a = analyze_run(presets::eagle_cpu, net, run);
  for (set_kind k : all_set_kinds)
    fmt::print("{:<12} lands in {}\n", to_string(k), presets::eagle_cpu.level_name(a.sets[k].level));
  fmt::print("{:.3g} operations, {:.3g} bytes from DRAM\n", a.counts.operations,
             a.counts.bytes_by_level[3]);
}
