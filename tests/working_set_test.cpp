#include "wsenergy/working_set.hpp"

#include <catch2/catch.hpp>

#include "test_support.hpp"
#include "wsenergy/presets.hpp"
#include "wsenergy/topology.hpp"

using namespace wsenergy;
using Catch::Matchers::Contains;

// A placement computed at compile time: 529_pollen, rectangle 13 13 1 (261 parameters), batch 256,
// on the study's CPU node; the authors printed these numbers (tests/golden/working_sets.csv).
namespace {
constexpr std::array<std::int64_t, 4> pollen_full = {4, 13, 13, 1};
constexpr working_sets pollen_cpu =
    place_working_sets(presets::eagle_cpu.levels(), pollen_full, 261, 256, 76960);
}  // namespace
static_assert(pollen_cpu.forward == placement{0, 1044, 1783, 1044, 27668, 1783});
static_assert(pollen_cpu.backward == placement{0, 2230, 2969, 7208, 33832, 2969});
static_assert(pollen_cpu.dataset == placement{0, 2137, 5106, 76960, 110792, 5106});

TEST_CASE("placements reproduce the authors' printed values exactly", "[working_set][golden]") {
  const auto rows = test::read_csv(WSENERGY_TEST_DIR "/golden/working_sets.csv");
  REQUIRE(rows.size() == 30);
  for (const auto& row : rows) {
    const auto widths = test::parse_widths(row.at("widths"));
    std::vector<std::int64_t> full{std::stoll(row.at("inputs"))};
    full.insert(full.end(), widths.begin(), widths.end());
    const auto params = static_cast<std::uint64_t>(std::stoll(row.at("parameters")));
    REQUIRE(parameter_count(full[0], widths) == static_cast<std::int64_t>(params));
    const auto levels = row.at("hardware") == "eagle_cpu" ? presets::eagle_cpu.levels()
                                                          : presets::eagle_gpu.levels();
    const working_sets sets =
        place_working_sets(levels, full, params, std::stoull(row.at("batch")),
                           std::stoull(row.at("dataset_bytes")));
    const std::string& name = row.at("set");
    const placement& p = name == "forward"    ? sets.forward
                         : name == "backward" ? sets.backward
                                              : sets.dataset;
    INFO(row.at("hardware") << " size " << row.at("target_size") << " set " << name);
    CHECK(p.level + 1 == std::stoull(row.at("level")));
    CHECK(p.cached == std::stoull(row.at("cached")));
    CHECK(p.occupied == std::stoull(row.at("occupied")));
    CHECK(p.singular == std::stoull(row.at("singular")));
    CHECK(p.singular_occupied == std::stoull(row.at("singular_occupied")));
    CHECK(p.effective == std::stoull(row.at("effective")));
  }
}

TEST_CASE("a set that overflows a level moves on to the next", "[working_set]") {
  // Two levels: 100 bytes x 2 units, then 10,000 bytes x 1.
  constexpr std::array<memory_level, 2> levels = {{{100, 2}, {10000, 1}}};
  // 60 replicated + 40 distributed over 2 units = 80 per unit: fits level 1.
  constexpr placement a = place(levels, placement{}, {60, 40});
  STATIC_REQUIRE(a == placement{0, 80, 80, 100, 100, 80});
  // 30 more per unit does not fit in 100: level 1 is counted full (C_1 = 100, T_1 = 200) and the
  // set lands in level 2 with its per-unit share over 1 unit.
  constexpr placement b = place(levels, a, {30, 0});
  STATIC_REQUIRE(b == placement{1, 30, 130, 30, 230, 110});
  // A set on top of a full first level skips it.
  constexpr placement full_first{0, 100, 100, 200, 200, 100};
  STATIC_REQUIRE(place(levels, full_first, {0, 10}).level == 1);
}

TEST_CASE("the inter-layer set is the field-wise maximum over layers", "[working_set]") {
  constexpr std::array<std::int64_t, 4> full = {2, 50, 1, 1};
  const working_sets s = place_working_sets(presets::eagle_cpu.levels(), full, 100, 256, 1000);
  // largest layer: 2 -> 50, 4 * 256 * 52 bytes over 36 units
  CHECK(s.inter_layer.singular == 4u * 256 * 52);
  CHECK(s.inter_layer.cached == 4u * 256 * 52 / 36);
  // the backward set's distributed part is all activations less the largest layer
  CHECK(s.backward.singular == 8u * 100 + 4u * 256 * (2 + 50 + 1 + 1) - 4u * 256 * 52);
}

TEST_CASE("a working set larger than main memory is an error", "[working_set][errors]") {
  constexpr std::array<memory_level, 2> levels = {{{1024, 1}, {1 << 20, 1}}};
  CHECK_THROWS_WITH(place(levels, placement{}, {2 << 20, 0}),
                    Contains("2097152 bytes") && Contains("do not fit in main memory"));
  constexpr std::array<std::int64_t, 3> full = {784, 4096, 10};
  CHECK_THROWS_AS(place_working_sets(levels, full, 3'000'000, 256, 0), invalid_input);
}
