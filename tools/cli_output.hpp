#pragma once
// Output shared by the subcommands: the --json flag, where figures went, and the footprint
// (kWh, kg CO2e and cost) with the options that set it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "wsenergy/carbon.hpp"
#include "wsenergy/io/grid_intensity.hpp"
#include "wsenergy/plot.hpp"

namespace wsenergy::cli {

/// Adds `--json` to a command; `what` says what the JSON describes.
CLI::Option* add_json_flag(CLI::App& cmd, bool& json, const std::string& what = "print JSON");

/// A number, or null when there is none.
nlohmann::json number_or_null(const std::optional<double>& v);

/// An energy in kWh, or null when there is none.
/// @param energy_j joules
nlohmann::json kwh_or_null(const std::optional<double>& energy_j);

/// A text, or null when it is empty.
nlohmann::json text_or_null(const std::string& s);

// ------------------------------------------------------------------------------------ figures

/// Where a command's figures went: printed as each is written (text), or kept for its JSON.
class figure_log {
 public:
  explicit figure_log(bool json) : json_(json) {}

  /// Records a figure; in text, prints where it went (a figure not rendered for want of gnuplot
  /// gets a note on stderr). @throws invalid_input when gnuplot ran and failed
  void add(const plot::plot_output& out);

  /// The figures as JSON: one object per figure with its files and whether it was rendered.
  const nlohmann::json& json() const { return figures_; }
  bool is_json() const { return json_; }

 private:
  bool json_;
  nlohmann::json figures_ = nlohmann::json::array();
};

// ---------------------------------------------------------------------------------- footprint

/// The footprint options of a command (`add_footprint_options`).
struct footprint_options {
  double g_per_kwh = 0;
  std::string region;
  double pue = 1.0;
  double price = 0;
  std::string currency;
  const CLI::Option* intensity_given = nullptr;
  const CLI::Option* region_given = nullptr;
  const CLI::Option* pue_given = nullptr;
  const CLI::Option* price_given = nullptr;
};

/// Adds --carbon-intensity, --region, --pue, --price and --currency.
void add_footprint_options(CLI::App& cmd, footprint_options& o);

/// The shipped grid-intensity table, data/carbon/grid_intensity.csv (`data_dir()`).
io::grid_intensity_table shipped_grid_table();

/// The settings the options give, checked; nothing when none of them was given.
/// @throws invalid_input naming the option and value: both --region and --carbon-intensity, an
/// unknown region (with how to list them), a bad value, --currency without --price
std::optional<footprint_settings> resolve_footprint(const footprint_options& o);

/// "footprint: NOR: 30.1 g CO2e/kWh (2023, SOURCE), PUE 1.2, price 0.25 EUR/kWh": the factor
/// used and where it came from, one line with its newline.
std::string footprint_settings_line(const footprint_settings& s, std::string_view indent);

/// "facility energy 0.701 kWh, 0.0211 kg CO2e, cost 0.175 EUR", one line with its newline.
std::string footprint_line(const footprint& f, const footprint_settings& s,
                           std::string_view indent);

/// The settings as JSON: intensity with region, year and source; PUE; price and currency.
nlohmann::json footprint_settings_json(const footprint_settings& s);

/// The values as JSON: energy_kwh, facility_kwh, co2e_kg and cost (where set).
nlohmann::json footprint_json(const footprint& f);

/// Settings and values in one object: the `carbon` object of a single prediction.
nlohmann::json carbon_json(const footprint& f, const footprint_settings& s);

/// CSV columns of the footprint: facility_kwh, pue, then co2e_kg and g_co2e_per_kwh with an
/// intensity, then cost and currency with a price.
std::vector<std::string> footprint_header(const footprint_settings& s);

/// The fields of `footprint_header` for one energy.
std::vector<std::string> footprint_fields(const footprint& f, const footprint_settings& s);

/// An energy in kWh as a CSV field (empty for none).
std::string kwh_field(std::optional<double> energy_j);

/// Registers `regions`: the grid-intensity table (tools/cli_output.cpp).
void add_output_commands(CLI::App& app);

}  // namespace wsenergy::cli
