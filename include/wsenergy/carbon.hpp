#pragma once
/// @file carbon.hpp
/// @brief From joules to kWh, kg CO2e and cost: the grid's carbon intensity (with where it came
/// from), the facility's power usage effectiveness (PUE) and a price per kWh. Joules stay the
/// primary unit; these are derived from them (docs/model.md section 8). Standard library
/// and fmt only.

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "wsenergy/error.hpp"

namespace wsenergy {

/// @brief Joules in one kilowatt-hour.
inline constexpr double joules_per_kwh = 3.6e6;

/// @brief An energy in kilowatt-hours.
/// @param energy_j joules
constexpr double kwh_of_j(double energy_j) { return energy_j / joules_per_kwh; }

/// @brief A grid carbon intensity and where it came from.
struct carbon_factor {
  double g_per_kwh = 0;  ///< grams of CO2-equivalent per kWh drawn from the grid
  std::string region;    ///< ISO 3166-1 alpha-3 code of a table row, or empty
  std::string name;      ///< the region's name, or empty
  int year = 0;          ///< the year the value is for; 0 when not known
  std::string source;    ///< where the value came from (a data set, or "given by the user")

  /// "NOR: 30.1 g CO2e/kWh (2023, SOURCE)", or "250 g CO2e/kWh (SOURCE)" for a value without a
  /// region and year.
  std::string text() const {
    const std::string where = region.empty() ? std::string() : region + ": ";
    const std::string when = year > 0 ? fmt::format("{}, ", year) : std::string();
    return fmt::format("{}{:g} g CO2e/kWh ({}{})", where, g_per_kwh, when, source);
  }
};

/// @brief What turns joules into a footprint: an optional carbon intensity, the PUE, and an
/// optional price per kWh in a currency.
struct footprint_settings {
  std::optional<carbon_factor> carbon;  ///< nothing: no kg CO2e
  double pue = 1.0;                     ///< facility energy over device energy, at least 1
  std::optional<double> price_per_kwh;  ///< nothing: no cost
  std::string currency;                 ///< ISO 4217 code of the price, or empty

  /// "NOR: 30.1 g CO2e/kWh (2023, SOURCE), PUE 1.2, price 0.25 EUR/kWh".
  std::string text() const {
    std::string s = carbon ? carbon->text() + ", " : std::string();
    s += fmt::format("PUE {:g}", pue);
    if (price_per_kwh)
      s += fmt::format(", price {:g} {}/kWh", *price_per_kwh,
                       currency.empty() ? std::string("(no currency)") : currency);
    return s;
  }
};

/// @brief Checks settings: an intensity and a price that are finite and not negative, a PUE that
/// is finite and at least 1, a currency only with a price and made of three letters A-Z.
/// @throws invalid_input naming the setting and its value
inline void check_footprint_settings(const footprint_settings& s) {
  if (s.carbon && !(std::isfinite(s.carbon->g_per_kwh) && s.carbon->g_per_kwh >= 0))
    throw invalid_input(
        fmt::format("carbon intensity must be a finite number of g CO2e/kWh, 0 or more, got {}",
                    s.carbon->g_per_kwh));
  if (!(std::isfinite(s.pue) && s.pue >= 1))
    throw invalid_input(fmt::format(
        "PUE (facility energy over IT energy) must be a finite number of at least 1, got {}",
        s.pue));
  if (s.price_per_kwh && !(std::isfinite(*s.price_per_kwh) && *s.price_per_kwh >= 0))
    throw invalid_input(
        fmt::format("price per kWh must be a finite number, 0 or more, got {}", *s.price_per_kwh));
  if (!s.currency.empty() && !s.price_per_kwh)
    throw invalid_input(fmt::format("currency '{}' without a price per kWh", s.currency));
  const bool letters =
      s.currency.size() == 3 && std::all_of(s.currency.begin(), s.currency.end(),
                                            [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!s.currency.empty() && !letters)
    throw invalid_input(fmt::format(
        "currency '{}': expected an ISO 4217 code of three capital letters (EUR, USD, NOK)",
        s.currency));
}

/// @brief The footprint of an energy.
struct footprint {
  double energy_j = 0;            ///< the energy as predicted or measured (device), joules
  double energy_kwh = 0;          ///< the same in kWh
  double facility_kwh = 0;        ///< with the facility's overhead: energy_kwh × PUE
  std::optional<double> co2e_kg;  ///< facility_kwh × g CO2e/kWh / 1000, with a carbon intensity
  std::optional<double> cost;     ///< facility_kwh × price, with a price
};

/// @brief The footprint of `energy_j` under `s`.
/// @param energy_j joules at the device, as the model predicts them
/// @pre `s` passes `check_footprint_settings`
inline footprint footprint_of(double energy_j, const footprint_settings& s) {
  footprint f;
  f.energy_j = energy_j;
  f.energy_kwh = kwh_of_j(energy_j);
  f.facility_kwh = f.energy_kwh * s.pue;
  if (s.carbon) f.co2e_kg = f.facility_kwh * s.carbon->g_per_kwh / 1000.0;
  if (s.price_per_kwh) f.cost = f.facility_kwh * *s.price_per_kwh;
  return f;
}

}  // namespace wsenergy
