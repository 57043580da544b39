#pragma once
/// @file io/grid_intensity.hpp
/// @brief A dated table of grid carbon intensity by country (data/carbon/grid_intensity.csv):
///
///     iso3,country,g_co2e_per_kwh,year[,source]
///     NOR,Norway,30.1,2023
///
/// One row per ISO 3166-1 alpha-3 code; the value is grams of CO2e per kWh for the year given.
/// A `source` column, when present, names each row's source; otherwise the reader's default does.

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/carbon.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/io/csv.hpp"

namespace wsenergy::io {

/// @brief The source of the table shipped in data/carbon/ (see its README.md).
inline constexpr std::string_view shipped_grid_intensity_source =
    "Our World in Data, from Ember and the Energy Institute, CC BY 4.0";

/// @brief The rows of a grid-intensity table, in file order, each with its source.
class grid_intensity_table {
 public:
  /// @brief Reads a table from CSV text.
  /// @param source_name the file name for error messages
  /// @param default_source the source of rows without a `source` cell
  /// @throws invalid_input naming the file, line, column and value of the first bad cell: a code
  /// that is not three letters A-Z or appears twice, an empty name, an intensity that is not a
  /// finite number of at least 0, a year outside 1900..2100; or a missing column or no rows
  static grid_intensity_table parse(std::string_view text, const std::string& source_name,
                                    const std::string& default_source) {
    const csv_table t = csv_table::parse(text, source_name);
    const std::size_t c_code = t.require_column("iso3");
    const std::size_t c_name = t.require_column("country");
    const std::size_t c_value = t.require_column("g_co2e_per_kwh");
    const std::size_t c_year = t.require_column("year");
    const auto c_source = t.column("source");
    grid_intensity_table out;
    out.file_ = source_name;
    for (std::size_t r = 0; r < t.size(); ++r) {
      carbon_factor f;
      f.region = t.text(r, c_code);
      if (f.region.size() != 3 || !std::all_of(f.region.begin(), f.region.end(),
                                               [](char c) { return c >= 'A' && c <= 'Z'; }))
        throw t.cell_error(r, c_code, "expected an ISO 3166-1 alpha-3 code (three letters A-Z)");
      if (out.find(f.region)) throw t.cell_error(r, c_code, "the code appears twice");
      f.name = t.text(r, c_name);
      if (f.name.empty()) throw t.cell_error(r, c_name, "must not be empty");
      f.g_per_kwh = t.number(r, c_value);
      if (f.g_per_kwh < 0) throw t.cell_error(r, c_value, "must not be negative");
      const std::int64_t year = t.integer(r, c_year);
      if (year < 1900 || year > 2100)
        throw t.cell_error(r, c_year, "expected a year, 1900 to 2100");
      f.year = static_cast<int>(year);
      f.source = c_source && !t.text(r, *c_source).empty() ? t.text(r, *c_source) : default_source;
      out.rows_.push_back(std::move(f));
    }
    if (out.rows_.empty())
      throw invalid_input(fmt::format("{}: the table has no rows", source_name));
    return out;
  }

  /// @brief Reads a table file (a regular file, at most `max_input_bytes`).
  static grid_intensity_table read(const std::filesystem::path& file,
                                   const std::string& default_source) {
    return parse(read_text_file(file), file.string(), default_source);
  }

  /// @brief The row of an alpha-3 code, letters in any case (`nor` is `NOR`), or nullptr.
  const carbon_factor* find(std::string_view code) const {
    std::string upper(code);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const auto it = std::find_if(rows_.begin(), rows_.end(),
                                 [&](const carbon_factor& f) { return f.region == upper; });
    return it == rows_.end() ? nullptr : &*it;
  }

  /// @brief The row of an alpha-3 code.
  /// @throws invalid_input naming the code and the file when the table has no such row
  const carbon_factor& at(std::string_view code) const {
    if (const carbon_factor* f = find(code)) return *f;
    throw invalid_input(
        fmt::format("region '{}' is not in {} ({} regions by ISO 3166-1 alpha-3 code, e.g. {})",
                    code, file_, rows_.size(), rows_.front().region));
  }

  const std::vector<carbon_factor>& rows() const noexcept { return rows_; }
  const std::string& file() const noexcept { return file_; }

 private:
  std::vector<carbon_factor> rows_;
  std::string file_;
};

}  // namespace wsenergy::io
