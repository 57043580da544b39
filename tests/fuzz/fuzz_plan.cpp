// Fuzzes the plan reader: a plan gives configurations whose values are safe in a command, or
// wsenergy::invalid_input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wsenergy/measure/sweep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto plan =
        wsenergy::measure::read_plan(wsenergy::io::csv_table::parse(text, "fuzz-plan.csv"));
    for (const auto& c : plan) {
      if (!wsenergy::measure::is_plain_name(c.run.run_id)) std::abort();  // the check held
      (void)wsenergy::measure::plan_csv({c});
    }
  } catch (const wsenergy::invalid_input&) {
  }
  return 0;
}
