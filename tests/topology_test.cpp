#include "wsenergy/topology.hpp"

#include <catch2/catch.hpp>

#include "test_support.hpp"
#include "wsenergy/datasets.hpp"

using namespace wsenergy;
using Catch::Matchers::Contains;

TEST_CASE("the size search reproduces every golden vector", "[topology][golden]") {
  const auto rows = test::read_csv(WSENERGY_TEST_DIR "/golden/size_search.csv");
  REQUIRE(rows.size() >= 50);
  for (const auto& row : rows) {
    INFO(row.at("dataset") << " " << row.at("shape") << " depth " << row.at("depth") << " size "
                           << row.at("target_size"));
    const size_match m = search_size(parse_shape(row.at("shape")), std::stoi(row.at("depth")),
                                     std::stoll(row.at("inputs")), std::stoll(row.at("outputs")),
                                     std::stoll(row.at("target_size")));
    CHECK(m.widths == test::parse_widths(row.at("widths")));
    CHECK(m.parameters == std::stoll(row.at("parameters")));
    CHECK(m.accepted == (row.at("accepted") == "yes"));
    CHECK(m.parameters == parameter_count(std::stoll(row.at("inputs")), m.widths));
  }
}

TEST_CASE("shape widths follow their definitions", "[topology]") {
  CHECK(shape_widths(shape::rectangle, 7, 4, 2) == std::vector<std::int64_t>{7, 7, 7, 2});
  CHECK(shape_widths(shape::rectangle_residual, 7, 2, 2) == std::vector<std::int64_t>{7, 2});
  // beta = (25 - 1) / 4 = 6
  CHECK(shape_widths(shape::trapezoid, 25, 5, 1) == std::vector<std::int64_t>{25, 19, 13, 7, 1});
  // round-half-to-even: 34 / 4 = 8.5 rounds to 8, 10 / 4 = 2.5 rounds to 2
  CHECK(shape_widths(shape::wide_first_4x, 34, 4, 1) == std::vector<std::int64_t>{34, 8, 8, 1});
  CHECK(shape_widths(shape::wide_first_4x, 10, 3, 1) == std::vector<std::int64_t>{10, 2, 1});
  CHECK(shape_widths(shape::wide_first_16x, 4, 3, 5) == std::vector<std::int64_t>{4, 1, 5});
  // exponential never goes below the output width
  CHECK(shape_widths(shape::exponential, 42, 5, 1) == std::vector<std::int64_t>{42, 16, 6, 3, 1});
}

TEST_CASE("parameter and FLOP counts", "[topology]") {
  const mlp<float> net(4, {13, 13, 1});
  CHECK(net.parameters() == 5 * 13 + 14 * 13 + 14 * 1);
  CHECK(net.parameter_bytes() == 4 * 261);
  CHECK(net.depth() == 3);
  CHECK(net.full_widths() == std::vector<std::int64_t>{4, 13, 13, 1});
  const batch_operations ops = net.operations(256);
  // forward: B * sum(a*b + b) = 256 * (52+13 + 169+13 + 13+1)
  CHECK(ops.forward == Approx(256.0 * 261));
  // backward per datum: (2*13 + 52) + (2*13 + 169 + 169) + (2*1 + 13 + 13); then * B + P * (1 + B)
  CHECK(ops.backward == Approx(256.0 * (78 + 364 + 28) + 261.0 * 257));
  STATIC_REQUIRE(mlp<double>::bytes_per_value == 8);
  STATIC_REQUIRE(mlp<float>::bytes_per_value == 4);
}

TEST_CASE("bad topologies are rejected with their value", "[topology][errors]") {
  CHECK_THROWS_WITH(parse_shape("hexagon"), Contains("unknown shape 'hexagon'") &&
                                                Contains("wide_first_4x"));
  CHECK_THROWS_WITH(search_size(shape::rectangle, 1, 4, 1, 256), Contains("depth") && Contains("1"));
  CHECK_THROWS_WITH(search_size(shape::rectangle, 3, 0, 1, 256), Contains("inputs") && Contains("0"));
  CHECK_THROWS_WITH(search_size(shape::rectangle, 3, 4, -2, 256), Contains("outputs") && Contains("-2"));
  CHECK_THROWS_WITH(search_size(shape::rectangle, 3, 4, 1, 0), Contains("size") && Contains("0"));
  CHECK_THROWS_WITH(mlp<float>(4, {13, 0, 1}), Contains("layer 2") && Contains("0"));
  CHECK_THROWS_WITH(mlp<float>(4, {13}), Contains("depth"));
  CHECK_THROWS_WITH(shape_widths(shape::trapezoid, -3, 3, 1), Contains("-3"));
}

TEST_CASE("a target the size search must reject is an error where a network is needed",
          "[topology][errors]") {
  // mnist, rectangle, depth 3, 1024: nearest is 807 parameters, 21 % off (published BUTTER row)
  const size_match m = search_size(shape::rectangle, 3, 784, 10, 1024);
  CHECK_FALSE(m.accepted);
  CHECK(m.relative_error == Approx(217.0 / 1024));
  CHECK_THROWS_WITH(mlp<float>::from_shape(shape::rectangle, 3, 784, 10, 1024),
                    Contains("1024") && Contains("807") && Contains("20 %"));
}

TEST_CASE("parameter counts that overflow 64 bits are detected", "[topology][errors]") {
  const std::int64_t huge = std::int64_t{1} << 32;
  const std::vector<std::int64_t> widths{huge, huge, huge};
  CHECK_THROWS_WITH(parameter_count(huge, widths), Contains("overflows 64 bits"));
  CHECK_THROWS_WITH(mlp<float>(huge, widths), Contains("overflows"));
  // The search itself treats an overflowing candidate as too large and still finds the answer.
  const size_match m = search_size(shape::rectangle, 20, 1, 1, std::int64_t{1} << 62);
  CHECK(m.parameters > 0);
  CHECK(m.accepted);
}

TEST_CASE("the data-set table holds the sweep's 13 data sets", "[topology][data]") {
  const auto rows = test::read_csv(WSENERGY_PROJECT_DATA_DIR "/butter_e/datasets.csv");
  REQUIRE(rows.size() == butter_datasets.size());
  for (const auto& row : rows) {
    const dataset_info* d = find_dataset(row.at("dataset"));
    REQUIRE(d != nullptr);
    CHECK(d->observations == std::stoll(row.at("observations")));
    CHECK(d->raw_features == std::stoll(row.at("raw_features")));
    CHECK(d->raw_classes == std::stoll(row.at("raw_classes")));
    CHECK(d->inputs == std::stoll(row.at("inputs")));
    CHECK(d->outputs == std::stoll(row.at("outputs")));
    CHECK(d->task == row.at("task"));
    CHECK(d->widths_verified == (row.at("widths_verified") == "yes"));
    CHECK(find_dataset_by_observations(d->observations) == d);
  }
  CHECK_THROWS_WITH(dataset_named("iris"), Contains("'iris'") && Contains("mnist"));
}

TEST_CASE("the search's fast parameter count equals the count of the built widths",
          "[topology]") {
  // Every shape, several depths and output widths, first widths spread over [1, 2^30).
  for (shape s : all_shapes)
    for (int depth : {2, 3, 5, 9, 14, 20})
      for (std::int64_t outputs : {1, 3, 10}) {
        std::uint64_t state = 12345;
        for (int i = 0; i < 300; ++i) {
          state = state * 6364136223846793005ull + 1442695040888963407ull;
          const int bits = 1 + static_cast<int>((state >> 33) % 30);
          const std::int64_t w0 = 1 + static_cast<std::int64_t>((state >> 11) % (1ull << bits));
          const auto widths = shape_widths(s, w0, depth, outputs);
          std::optional<std::int64_t> expected;
          try {
            expected = parameter_count(784, widths);
          } catch (const invalid_input&) {
          }
          INFO(to_string(s) << " depth " << depth << " w0 " << w0);
          CHECK(detail::shape_parameters(s, w0, depth, 784, outputs) == expected);
        }
      }
}

TEST_CASE("round half to even matches nearbyint", "[topology]") {
  for (double x : {0.5, 1.5, 2.5, -0.5, -1.5, 2.4999999999, 2.5000000001, 1e15 + 0.5, 3e15 + 0.5,
                   4.5e15, -7.5})
    CHECK(detail::round_even(x) == static_cast<std::int64_t>(std::nearbyint(x)));
}

TEST_CASE("depth is bounded to what the library builds", "[topology][errors][security]") {
  CHECK_THROWS_WITH(search_size(shape::rectangle, max_depth + 1, 784, 10, 1 << 20),
                    Catch::Matchers::Contains("depth: must be at most 4096, got 4097"));
  CHECK_THROWS_WITH(search_size(shape::rectangle, 2147483647, 784, 10, 1 << 20),
                    Catch::Matchers::Contains("depth: must be at most 4096"));
  CHECK_THROWS_WITH(shape_widths(shape::rectangle, 8, max_depth + 1, 2),
                    Catch::Matchers::Contains("at most 4096"));
  CHECK_THROWS_WITH(mlp<float>(4, std::vector<std::int64_t>(max_depth + 1, 1)),
                    Catch::Matchers::Contains("at most 4096"));
  CHECK(search_size(shape::rectangle, 64, 784, 10, 1 << 20).widths.size() == 64);
}

TEST_CASE("the guided size search equals the authors' binary search",
          "[topology]") {
  // Every target from 1 to 3000 (ties and exact hits included), then a sweep of wide ranges.
  std::vector<std::int64_t> targets;
  for (std::int64_t t = 1; t <= 3000; ++t) targets.push_back(t);
  for (std::int64_t t = 3001; t < (std::int64_t{1} << 62); t += t / 7 + 1) targets.push_back(t);
  for (shape s : all_shapes) {
    for (int depth : {2, 3, 4, 7, 20})
      for (std::int64_t inputs : {1, 3, 784, 100000})
        for (std::int64_t outputs : {1, 2, 10, 1000})
          for (std::int64_t target : targets) {
            const int m = wide_first_factor(s);
            const auto expected = detail::binary_search_first_width(
                [&](std::int64_t c, std::int64_t limit) {
                  if (s == shape::trapezoid)
                    return detail::trapezoid_count(c, depth, inputs, outputs, limit);
                  if (s == shape::exponential)
                    return detail::exponential_count(c, depth, inputs, outputs, limit);
                  return m == 0 ? detail::rectangle_count(c, depth, inputs, outputs)
                                : detail::wide_first_count(c, m, depth, inputs, outputs);
                },
                target);
            const auto got = detail::search_first_width(s, depth, inputs, outputs, target);
            if (got != expected) {
              INFO(to_string(s) << " depth " << depth << " inputs " << inputs << " outputs "
                                << outputs << " target " << target);
              REQUIRE(got == expected);
            }
          }
  }
}
