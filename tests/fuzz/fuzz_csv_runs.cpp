// Fuzzes the CSV reader and both runs readers (BUTTER-E and generic): any input gives runs or
// wsenergy::invalid_input, never a crash, a hang or another exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/io/csv.hpp"
#include "wsenergy/io/runs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto t = wsenergy::io::csv_table::parse(text, "fuzz.csv");
    for (std::size_t r = 0; r < t.size() && r < 4; ++r)
      for (std::size_t c = 0; c < t.header().size(); ++c) {
        try {
          (void)t.integer(r, c);
        } catch (const wsenergy::invalid_input&) {
        }
      }
    if (wsenergy::io::detect_schema(t) == wsenergy::io::runs_schema::butter_e)
      (void)wsenergy::io::read_butter_e_runs(t);
    else
      (void)wsenergy::io::read_generic_runs(t);
  } catch (const wsenergy::invalid_input&) {
  }
  return 0;
}
