// Fuzzes the hierarchy JSON reader: a hierarchy or wsenergy::invalid_input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "wsenergy/io/hierarchy_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  try {
    (void)wsenergy::io::hierarchy_from_json(j, "fuzz.json");
  } catch (const wsenergy::invalid_input&) {
  }
  return 0;
}
