#include "cli_output.hpp"

#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli_common.hpp"

namespace wsenergy::cli {

CLI::Option* add_json_flag(CLI::App& cmd, bool& json, const std::string& what) {
  return cmd.add_flag("--json", json, what);
}

nlohmann::json number_or_null(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

nlohmann::json kwh_or_null(const std::optional<double>& energy_j) {
  return energy_j ? nlohmann::json(kwh_of_j(*energy_j)) : nlohmann::json();
}

nlohmann::json text_or_null(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}

// ------------------------------------------------------------------------------------ figures

void figure_log::add(const plot::plot_output& out) {
  if (!out.rendered && out.gnuplot_failed) throw invalid_input(out.message);  // an error
  nlohmann::json images = nlohmann::json::array();
  for (const auto& i : out.images) images.push_back(i.string());
  figures_.push_back({{"data", out.data_file.string()},
                      {"script", out.script_file.string()},
                      {"images", images},
                      {"rendered", out.rendered},
                      {"note", out.rendered ? nlohmann::json() : nlohmann::json(out.message)}});
  if (json_) return;
  if (out.rendered) {
    fmt::print("wrote {} and .png (gnuplot script .gp, data .dat)\n", out.images[0].string());
    return;
  }
  fmt::print("wrote {} and {}\n", out.script_file.string(), out.data_file.string());
  std::cerr << "wsenergy: note: " << out.message << '\n';
}

// ---------------------------------------------------------------------------------- footprint

void add_footprint_options(CLI::App& cmd, footprint_options& o) {
  const std::string group = "Carbon and cost";
  o.intensity_given =
      cmd.add_option("--carbon-intensity", o.g_per_kwh,
                     "grid carbon intensity, g CO2e per kWh: adds kg CO2e to the output")
          ->group(group);
  o.region_given = cmd.add_option("--region", o.region,
                                  "instead: the intensity of a country from the shipped, dated "
                                  "table, by ISO 3166-1 alpha-3 code (NOR, DEU, USA; `wsenergy "
                                  "regions` lists them)")
                       ->group(group);
  o.pue_given = cmd.add_option("--pue", o.pue,
                               "power usage effectiveness of the facility (>= 1): kWh drawn per "
                               "kWh of the hardware")
                    ->capture_default_str()
                    ->group(group);
  o.price_given =
      cmd.add_option("--price", o.price, "price of one kWh: adds the cost to the output")
          ->group(group);
  cmd.add_option("--currency", o.currency, "with --price: its ISO 4217 code (EUR, USD, NOK)")
      ->group(group);
}

io::grid_intensity_table shipped_grid_table() {
  return io::grid_intensity_table::read(data_dir() / "carbon" / "grid_intensity.csv",
                                        std::string(io::shipped_grid_intensity_source));
}

namespace {

/// Checks `s` after the option `flag` set its last part: an error names the flag and value.
void check_after(const footprint_settings& s, std::string_view flag, const std::string& value) {
  try {
    check_footprint_settings(s);
  } catch (const invalid_input& e) {
    throw invalid_input(fmt::format("{} {}: {}", flag, value, e.what()));
  }
}

carbon_factor region_factor(const std::string& code) {
  try {
    return shipped_grid_table().at(code);
  } catch (const invalid_input& e) {
    throw invalid_input(
        fmt::format("--region {}: {}; `wsenergy regions` lists them", code, e.what()));
  }
}

}  // namespace

std::optional<footprint_settings> resolve_footprint(const footprint_options& o) {
  const bool intensity = o.intensity_given && o.intensity_given->count() > 0;
  const bool region = o.region_given && o.region_given->count() > 0;
  const bool pue = o.pue_given && o.pue_given->count() > 0;
  const bool price = o.price_given && o.price_given->count() > 0;
  if (!intensity && !region && !pue && !price && o.currency.empty()) return std::nullopt;
  if (intensity && region)
    throw invalid_input(
        fmt::format("--region {} and --carbon-intensity {}: give one of them, not both", o.region,
                    o.g_per_kwh));
  if (!o.currency.empty() && !price)
    throw invalid_input(
        fmt::format("--currency {}: give the price per kWh with --price too", o.currency));
  footprint_settings s;
  if (intensity) {
    s.carbon = carbon_factor{o.g_per_kwh, "", "", 0, "given with --carbon-intensity"};
    check_after(s, "--carbon-intensity", fmt::format("{}", o.g_per_kwh));
  }
  if (region) s.carbon = region_factor(o.region);
  s.pue = o.pue;
  check_after(s, "--pue", fmt::format("{}", o.pue));
  if (price) {
    s.price_per_kwh = o.price;
    check_after(s, "--price", fmt::format("{}", o.price));
  }
  s.currency = o.currency;
  for (char& c : s.currency)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  check_after(s, "--currency", o.currency);
  return s;
}

std::string footprint_settings_line(const footprint_settings& s, std::string_view indent) {
  return fmt::format("{}footprint: {}\n", indent, s.text());
}

std::string footprint_line(const footprint& f, const footprint_settings& s,
                           std::string_view indent) {
  std::string line = fmt::format("{}facility energy {:.4g} kWh", indent, f.facility_kwh);
  if (f.co2e_kg) line += fmt::format(", {:.4g} kg CO2e", *f.co2e_kg);
  if (f.cost)
    line += fmt::format(", cost {:.4g}{}", *f.cost, s.currency.empty() ? "" : " " + s.currency);
  return line + "\n";
}

nlohmann::json footprint_settings_json(const footprint_settings& s) {
  nlohmann::json intensity;
  if (s.carbon)
    intensity = nlohmann::json{
        {"g_co2e_per_kwh", s.carbon->g_per_kwh},
        {"region", text_or_null(s.carbon->region)},
        {"region_name", text_or_null(s.carbon->name)},
        {"year", s.carbon->year > 0 ? nlohmann::json(s.carbon->year) : nlohmann::json()},
        {"source", s.carbon->source}};
  return {{"intensity", intensity},
          {"pue", s.pue},
          {"price_per_kwh", number_or_null(s.price_per_kwh)},
          {"currency", text_or_null(s.currency)},
          {"factor", s.text()}};
}

nlohmann::json footprint_json(const footprint& f) {
  return {{"energy_kwh", f.energy_kwh},
          {"facility_kwh", f.facility_kwh},
          {"co2e_kg", number_or_null(f.co2e_kg)},
          {"cost", number_or_null(f.cost)}};
}

nlohmann::json carbon_json(const footprint& f, const footprint_settings& s) {
  nlohmann::json j = footprint_settings_json(s);
  j.update(footprint_json(f));
  return j;
}

std::vector<std::string> footprint_header(const footprint_settings& s) {
  std::vector<std::string> h = {"facility_kwh", "pue"};
  if (s.carbon) h.insert(h.end(), {"co2e_kg", "g_co2e_per_kwh"});
  if (s.price_per_kwh) h.insert(h.end(), {"cost", "currency"});
  return h;
}

std::vector<std::string> footprint_fields(const footprint& f, const footprint_settings& s) {
  std::vector<std::string> out = {fmt::format("{:.6g}", f.facility_kwh),
                                  fmt::format("{:g}", s.pue)};
  if (s.carbon)
    out.insert(out.end(),
               {fmt::format("{:.6g}", *f.co2e_kg), fmt::format("{:g}", s.carbon->g_per_kwh)});
  if (s.price_per_kwh) out.insert(out.end(), {fmt::format("{:.6g}", *f.cost), s.currency});
  return out;
}

std::string kwh_field(std::optional<double> energy_j) {
  return energy_j ? fmt::format("{:.6g}", kwh_of_j(*energy_j)) : std::string();
}

// -------------------------------------------------------------------------------------- regions

namespace {

void run_regions(bool json) {
  const io::grid_intensity_table t = shipped_grid_table();
  if (json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const carbon_factor& f : t.rows())
      rows.push_back({{"region", f.region},
                      {"name", f.name},
                      {"g_co2e_per_kwh", f.g_per_kwh},
                      {"year", f.year},
                      {"source", f.source}});
    print_json({{"file", t.file()}, {"regions", rows}});
    return;
  }
  fmt::print("grid carbon intensity by country ({} regions), from {}\n", t.rows().size(), t.file());
  fmt::print("  {:<6} {:>12} {:>5}  {}\n", "code", "g CO2e/kWh", "year", "country");
  for (const carbon_factor& f : t.rows())
    fmt::print("  {:<6} {:>12g} {:>5}  {}{}\n", f.region, f.g_per_kwh, f.year, f.name,
               f.source == io::shipped_grid_intensity_source ? "" : " (" + f.source + ")");
  fmt::print("source: {}; licence and attribution in the table's README.md\n",
             io::shipped_grid_intensity_source);
}

}  // namespace

void add_output_commands(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "regions", "the grid carbon intensity of each country that --region takes, with its year");
  add_json_flag(*cmd, *json);
  cmd->callback([json] { run_regions(*json); });
}

}  // namespace wsenergy::cli
