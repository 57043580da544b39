// Fuzzes the model file reader. Type errors of nlohmann-json are caught here as well: they are
// findings for the model reader's own validation, not crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "wsenergy/io/model_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  try {
    (void)wsenergy::io::model_from_json(j, "fuzz-model.json");
  } catch (const wsenergy::invalid_input&) {
  } catch (const nlohmann::json::exception&) {
  }
  return 0;
}
