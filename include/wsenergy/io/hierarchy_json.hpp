#pragma once
/// @file io/hierarchy_json.hpp
/// @brief Reads and writes a hierarchy as JSON (target `wsenergy::io`, which adds nlohmann-json):
///
///     {"name": "my-node",
///      "levels": [{"name": "L1d", "size_bytes": 32768, "units": 16}, ...,
///                 {"name": "DRAM", "size_bytes": 68719476736, "units": 1}]}

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "wsenergy/error.hpp"
#include "wsenergy/hierarchy.hpp"
#include "wsenergy/io/files.hpp"

namespace wsenergy::io {

/// @brief The JSON form of a hierarchy.
inline nlohmann::json to_json(const hierarchy& h) {
  nlohmann::json levels = nlohmann::json::array();
  for (std::size_t k = 0; k < h.size(); ++k)
    levels.push_back({{"name", h.level_name(k)},
                      {"size_bytes", h.levels()[k].size_bytes},
                      {"units", h.levels()[k].units}});
  return {{"name", h.name()}, {"levels", levels}};
}

/// @brief A hierarchy from its JSON form.
/// @param source names the origin (a file path) in error messages
/// @throws invalid_input naming the source, the level and the missing or bad field
inline hierarchy hierarchy_from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw invalid_input(fmt::format("{}: expected a JSON object", source));
  auto field = [&](const nlohmann::json& obj, const char* key,
                   const std::string& where) -> const nlohmann::json& {
    auto it = obj.find(key);
    if (it == obj.end())
      throw invalid_input(fmt::format("{}: {}missing field '{}'", source, where, key));
    return *it;
  };
  auto positive = [&](const nlohmann::json& v, const char* key, const std::string& where) {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0)
      throw invalid_input(fmt::format("{}: {}field '{}' must be a positive integer, got {}",
                                      source, where, key, v.dump()));
    return v.get<std::uint64_t>();
  };
  const auto& name = field(j, "name", "");
  if (!name.is_string())
    throw invalid_input(fmt::format("{}: field 'name' must be a string, got {}", source, name.dump()));
  const auto& levels = field(j, "levels", "");
  if (!levels.is_array() || levels.empty())
    throw invalid_input(fmt::format("{}: field 'levels' must be a non-empty array, got {}", source,
                                    levels.dump()));
  std::vector<std::string> names;
  std::vector<memory_level> list;
  for (std::size_t k = 0; k < levels.size(); ++k) {
    const std::string where = fmt::format("levels[{}]: ", k);
    const auto& level = levels[k];
    if (!level.is_object())
      throw invalid_input(fmt::format("{}: {}expected an object, got {}", source, where, level.dump()));
    const auto& level_name = field(level, "name", where);
    if (!level_name.is_string())
      throw invalid_input(fmt::format("{}: {}field 'name' must be a string, got {}", source, where,
                                      level_name.dump()));
    names.push_back(level_name.get<std::string>());
    list.push_back({positive(field(level, "size_bytes", where), "size_bytes", where),
                    positive(field(level, "units", where), "units", where)});
  }
  try {
    return hierarchy(name.get<std::string>(), std::move(names), std::move(list));
  } catch (const invalid_input& e) {
    throw invalid_input(fmt::format("{}: {}", source, e.what()));
  }
}

/// @brief Reads a hierarchy from a JSON file.
/// @throws invalid_input naming the file (and line and column for a syntax error)
inline hierarchy read_hierarchy(const std::filesystem::path& file) {
  const std::string text = read_text_file(file);  // a regular file, bounded (io/files.hpp)
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw invalid_input(fmt::format("{}: not valid JSON: {}", file.string(), e.what()));
  }
  return hierarchy_from_json(j, file.string());
}

}  // namespace wsenergy::io
