// Places the working sets of a BUTTER network and checks one value, through the installed package.
#include <wsenergy/wsenergy.hpp>

#include <cstdio>

int main() {
  using namespace wsenergy;
  const auto net = mlp<float>::from_shape(shape::rectangle, 3, 4, 1, 256);
  const auto a = analyze_run(presets::eagle_cpu, net, butter_run(dataset_named("529_pollen")));
  std::printf("widths %lld %lld %lld, forward set at level %zu, occupied %llu bytes\n",
              static_cast<long long>(net.widths()[0]), static_cast<long long>(net.widths()[1]),
              static_cast<long long>(net.widths()[2]), a.sets.forward.level + 1,
              static_cast<unsigned long long>(a.sets.forward.occupied));
  // The authors' printed value for this network (tests/golden/working_sets.csv).
  return a.sets.forward.occupied == 1783 ? 0 : 1;
}
