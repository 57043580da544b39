#pragma once
/// @file io/model_json.hpp
/// @brief Fitted models as JSON files (target `wsenergy::io`): the hardware, the model's form
/// (terms, placement, accounting, thresholds, bytes per value), the coefficients by name with
/// their intervals, how they were fitted, and the comparison models refitted on the same runs.
/// Format version 2 (docs/fitting.md):
///
///     {"format": "wsenergy-model", "version": 2,
///      "hardware": {"name": "eagle_gpu", "levels": [...]},
///      "bytes_per_value": 4,
///      "target": "duration",                     // absent for energy (joules)
///      "terms": ["run", "train_step", ..., "bytes", "dsbytes"],
///      "placement": "hard",                      // or "smooth", with "smooth": {...}
///      "accounting": {"inter_layer_per_train_step": 3, ...},
///      "thresholds": {"parallel_weights": 1024, "hinge_flops": 1.07e9},
///      "coefficients": [{"name": "run", "unit": "J", "value": 271978.4, "std_error": 1230,
///                        "lower_95": 269566, "upper_95": 274389, "fitted": true}, ...],
///      "baselines": {"flops_only": {"run": ..., "operations": ...}, "flops_steps": {...}},
///      "fit": {"runs": 1873, "converged": true, "residual": "relative", ...},
///      "intervals": {"folds": 5, "seed": 240308151, "probabilities": [0, 0.0025, ...],
///                    "bands": [{"min_parameters": 529, "max_parameters": 33554432, "runs": 1873,
///                               "log_ratio_quantiles": [...]}]},      // optional
///      "domain": {"runs": 1873, "parameters": [529, 33554432], "depth": [2, 20], ...,
///                 "bytes_per_value": 4, "hierarchy": "eagle_gpu"}}     // optional
///
/// Version 1 files (the reference form, before terms were named in the file) are still read.

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "wsenergy/energy_model.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/interval.hpp"
#include "wsenergy/io/csv.hpp"
#include "wsenergy/io/files.hpp"
#include "wsenergy/io/hierarchy_json.hpp"

namespace wsenergy::io {

/// @brief One coefficient as recorded in a model file.
struct coefficient_record {
  std::string name;      ///< slot name (`run`, `bytes_L2`, `kappa@2^8`), `scale_<level>`, ...
  std::string unit;      ///< `J`, `J/step`, `J/op`, `J/B`, `1`
  double value = 0;      ///< fitted value
  double std_error = 0;  ///< standard error
  double lower_95 = 0;   ///< 95 % interval
  double upper_95 = 0;
  bool fitted = false;   ///< false when held at 0
};

/// @brief Everything a model file holds.
struct model_document {
  explicit model_document(energy_model<double> m) : model(std::move(m)) {}

  energy_model<double> model;                    ///< what predicts
  std::int64_t bytes_per_value = 4;              ///< of the runs it was fitted on
  model_target target = model_target::energy;    ///< what it predicts (`"target"`, J or s)
  std::vector<coefficient_record> coefficients;  ///< with intervals, for reports
  /// Comparison models fitted on the same runs (docs/model.md section 6), when recorded.
  std::optional<energy_model<double>> flops_only, flops_steps;
  nlohmann::json fit = nlohmann::json::object();  ///< how it was fitted (free form)
  /// Interval calibration and fitted domain (keys `intervals` and `domain`; absent in files
  /// written before them).
  model_scope scope;
};

namespace detail {

inline nlohmann::json coefficients_map(const energy_model<double>& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : m.named_coefficients()) j[name] = value;
  return j;
}

/// A non-negative finite number at `key` of `obj`.
inline double non_negative(const nlohmann::json& obj, const std::string& key,
                           const std::string& where, const std::string& source) {
  auto it = obj.find(key);
  if (it == obj.end())
    throw invalid_input(fmt::format("{}: {}missing field '{}'", source, where, key));
  if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < 0)
    throw invalid_input(fmt::format("{}: {}field '{}' must be a non-negative number, got {}",
                                    source, where, key, it->dump()));
  return it->get<double>();
}

/// A positive finite number at `key` of `obj`.
inline double positive(const nlohmann::json& obj, const std::string& key, const std::string& where,
                       const std::string& source) {
  const double v = non_negative(obj, key, where, source);
  if (!(v > 0))
    throw invalid_input(fmt::format("{}: {}field '{}' must be positive, got {}", source, where, key, v));
  return v;
}

inline energy_model<double> model_from_map(const hierarchy& h, term_set terms,
                                           const nlohmann::json& j, const std::string& where,
                                           const std::string& source) {
  if (!j.is_object())
    throw invalid_input(fmt::format("{}: {}expected an object, got {}", source, where, j.dump()));
  model_form f;
  f.terms = terms;
  std::vector<std::pair<std::string, double>> named;
  const std::vector<std::size_t> slots = active_slots(terms, h.size());
  for (const auto& [name, value] : j.items()) {
    const double v = non_negative(j, name, where, source);
    // Version 1 files list every slot of the reference form, 0 for those a baseline lacks.
    const bool ours = std::any_of(slots.begin(), slots.end(),
                                  [&](std::size_t s) { return slot_name(h, s) == name; });
    if (ours || v != 0) named.emplace_back(name, v);
  }
  try {
    return energy_model<double>::from_names(h, f, named);
  } catch (const invalid_input& e) {
    throw invalid_input(fmt::format("{}: {}{}", source, where, e.what()));
  }
}

inline const nlohmann::json& object_at(const nlohmann::json& j, const char* key,
                                       const std::string& source) {
  const auto& v = j.at(key);
  if (!v.is_object())
    throw invalid_input(fmt::format("{}: field '{}' must be an object, got {}", source, key, v.dump()));
  return v;
}

inline traffic_accounting accounting_from(const nlohmann::json& a, const std::string& source) {
  traffic_accounting out;
  static const std::array<std::pair<const char*, double traffic_accounting::*>, 6> fields = {{
      {"inter_layer_per_train_step", &traffic_accounting::inter_layer_per_train_step},
      {"inter_layer_per_eval_step", &traffic_accounting::inter_layer_per_eval_step},
      {"forward_per_train_step", &traffic_accounting::forward_per_train_step},
      {"forward_per_eval_step", &traffic_accounting::forward_per_eval_step},
      {"backward_per_train_step", &traffic_accounting::backward_per_train_step},
      {"dataset_per_epoch", &traffic_accounting::dataset_per_epoch},
  }};
  for (const auto& [key, value] : a.items())
    if (std::none_of(fields.begin(), fields.end(), [&](const auto& f) { return key == f.first; }))
      throw invalid_input(fmt::format("{}: accounting: unknown field '{}'", source, key));
  for (const auto& [key, member] : fields)
    if (a.contains(key)) out.*member = non_negative(a, key, "accounting: ", source);
  return out;
}

inline nlohmann::json accounting_json(const traffic_accounting& a) {
  return {{"inter_layer_per_train_step", a.inter_layer_per_train_step},
          {"inter_layer_per_eval_step", a.inter_layer_per_eval_step},
          {"forward_per_train_step", a.forward_per_train_step},
          {"forward_per_eval_step", a.forward_per_eval_step},
          {"backward_per_train_step", a.backward_per_train_step},
          {"dataset_per_epoch", a.dataset_per_epoch}};
}

inline nlohmann::json calibration_json(const interval_calibration& c) {
  nlohmann::json bands = nlohmann::json::array();
  for (const calibration_band& b : c.bands)
    bands.push_back({{"min_parameters", b.min_parameters},
                     {"max_parameters", b.max_parameters},
                     {"runs", b.runs},
                     {"log_ratio_quantiles", b.log_ratio_quantiles}});
  return {{"method", "split conformal on ln(measured / predicted), out-of-fold"},
          {"folds", c.folds},
          {"seed", c.seed},
          {"probabilities", calibration_probabilities},
          {"bands", bands}};
}

inline nlohmann::json domain_json(const model_domain& d) {
  nlohmann::json j = {{"runs", d.runs}};
  for (const auto& [name, member] : domain_dimensions)
    j[std::string(name)] = {(d.*member).min, (d.*member).max};
  j["bytes_per_value"] = d.bytes_per_value;
  j["hierarchy"] = d.hierarchy;
  return j;
}

}  // namespace detail

/// @brief The JSON form of a model file.
inline nlohmann::json to_json(const model_document& d) {
  const energy_model<double>& m = d.model;
  const model_form& f = m.form();
  nlohmann::json j;
  j["format"] = "wsenergy-model";
  j["version"] = 2;
  j["hardware"] = to_json(m.hardware());
  j["bytes_per_value"] = d.bytes_per_value;
  if (d.target != model_target::energy) j["target"] = std::string(to_string(d.target));
  nlohmann::json terms = nlohmann::json::array();
  for (std::size_t t = 0; t < term_count; ++t)
    if (f.terms.contains(t)) terms.push_back(std::string(term_table[t].name));
  j["terms"] = terms;
  j["placement"] = std::string(to_string(f.placement));
  if (f.placement == placement_mode::smooth) {
    std::vector<double> scales(f.smooth.capacity_scale.begin(),
                               f.smooth.capacity_scale.begin() +
                                   static_cast<std::ptrdiff_t>(m.hardware().size() - 1));
    j["smooth"] = {{"capacity_scale", scales}, {"sharpness", f.smooth.sharpness}};
  }
  j["accounting"] = detail::accounting_json(f.accounting);
  j["thresholds"] = {{"parallel_weights", f.thresholds.parallel_weights},
                     {"hinge_flops", f.thresholds.hinge_flops}};
  nlohmann::json list = nlohmann::json::array();
  if (d.coefficients.empty())
    for (const auto& [name, value] : m.named_coefficients()) list.push_back({{"name", name}, {"value", value}});
  for (const coefficient_record& c : d.coefficients)
    list.push_back({{"name", c.name},
                    {"unit", c.unit},
                    {"value", c.value},
                    {"std_error", c.std_error},
                    {"lower_95", c.lower_95},
                    {"upper_95", c.upper_95},
                    {"fitted", c.fitted}});
  j["coefficients"] = list;
  nlohmann::json baselines = nlohmann::json::object();
  if (d.flops_only) baselines["flops_only"] = detail::coefficients_map(*d.flops_only);
  if (d.flops_steps) baselines["flops_steps"] = detail::coefficients_map(*d.flops_steps);
  j["baselines"] = baselines;
  j["fit"] = d.fit;
  if (d.scope.calibration) j["intervals"] = detail::calibration_json(*d.scope.calibration);
  if (d.scope.domain) j["domain"] = detail::domain_json(*d.scope.domain);
  return j;
}

namespace detail {

inline model_form form_from_json(const nlohmann::json& j, const hierarchy& h, int version,
                                 const std::string& source) {
  model_form f;
  if (version >= 2) {
    if (!j.contains("terms") || !j["terms"].is_array() || j["terms"].empty())
      throw invalid_input(fmt::format("{}: field 'terms' must be a non-empty array of term names",
                                      source));
    std::string list;
    for (const auto& t : j["terms"]) {
      if (!t.is_string())
        throw invalid_input(fmt::format("{}: terms: expected a name, got {}", source, t.dump()));
      list += (list.empty() ? "" : ",") + t.get<std::string>();
    }
    try {
      f.terms = parse_term_set(list);
    } catch (const invalid_input& e) {
      throw invalid_input(fmt::format("{}: {}", source, e.what()));
    }
  }
  const std::string placement = j.value("placement", std::string("hard"));
  if (placement == "smooth") {
    f.placement = placement_mode::smooth;
    if (!j.contains("smooth") || !j["smooth"].is_object())
      throw invalid_input(fmt::format("{}: placement \"smooth\" needs a 'smooth' object", source));
    const auto& s = j["smooth"];
    f.smooth.sharpness = positive(s, "sharpness", "smooth: ", source);
    if (!s.contains("capacity_scale") || !s["capacity_scale"].is_array() ||
        s["capacity_scale"].size() != h.size() - 1)
      throw invalid_input(fmt::format(
          "{}: smooth: field 'capacity_scale' must list {} numbers, got {}", source, h.size() - 1,
          s.contains("capacity_scale") ? s["capacity_scale"].dump() : "nothing"));
    for (std::size_t k = 0; k + 1 < h.size(); ++k) {
      const auto& v = s["capacity_scale"][k];
      if (!v.is_number() || !(v.get<double>() > 0) || !std::isfinite(v.get<double>()))
        throw invalid_input(fmt::format("{}: smooth: capacity_scale[{}] must be positive, got {}",
                                        source, k, v.dump()));
      f.smooth.capacity_scale[k] = v.get<double>();
    }
  } else if (placement != "hard") {
    throw invalid_input(fmt::format(
        "{}: field 'placement' must be \"hard\" or \"smooth\", got \"{}\"", source, placement));
  }
  if (j.contains("accounting")) f.accounting = accounting_from(object_at(j, "accounting", source), source);
  if (j.contains("thresholds")) {
    const auto& t = object_at(j, "thresholds", source);
    if (t.contains("parallel_weights"))
      f.thresholds.parallel_weights = positive(t, "parallel_weights", "thresholds: ", source);
    if (t.contains("hinge_flops"))
      f.thresholds.hinge_flops = positive(t, "hinge_flops", "thresholds: ", source);
  }
  return f;
}

/// Rejects keys of `obj` not among `known`.
inline void only_keys(const nlohmann::json& obj, std::initializer_list<std::string_view> known,
                      const std::string& where, const std::string& source) {
  for (const auto& [key, value] : obj.items())
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw invalid_input(fmt::format("{}: {}unknown field '{}'", source, where, key));
}

/// An integer of at least `least` at `key` of `obj`.
inline std::int64_t integer_at(const nlohmann::json& obj, const char* key, std::int64_t least,
                               const std::string& where, const std::string& source) {
  if (!obj.contains(key))
    throw invalid_input(fmt::format("{}: {}missing field '{}'", source, where, key));
  const auto& v = obj[key];
  if (!v.is_number_integer() || v.get<std::int64_t>() < least)
    throw invalid_input(fmt::format("{}: {}field '{}' must be an integer of at least {}, got {}",
                                    source, where, key, least, v.dump()));
  return v.get<std::int64_t>();
}

/// An array of `n` finite numbers at `key` of `obj`, non-decreasing.
inline std::vector<double> ascending_at(const nlohmann::json& obj, const char* key, std::size_t n,
                                        const std::string& where, const std::string& source) {
  const auto it = obj.find(key);
  bool ok = it != obj.end() && it->is_array() && it->size() == n;
  std::vector<double> out;
  for (std::size_t i = 0; ok && i < n; ++i) {
    const auto& v = (*it)[i];
    ok = v.is_number() && std::isfinite(v.get<double>()) &&
         (out.empty() || v.get<double>() >= out.back());
    if (ok) out.push_back(v.get<double>());
  }
  if (!ok)
    throw invalid_input(
        fmt::format("{}: {}field '{}' must be an array of {} non-decreasing finite "
                    "numbers, got {}",
                    source, where, key, n, it == obj.end() ? "nothing" : it->dump()));
  return out;
}

inline calibration_band band_from(const nlohmann::json& j, const std::string& where,
                                  const std::string& source) {
  if (!j.is_object())
    throw invalid_input(fmt::format("{}: {}expected an object, got {}", source, where, j.dump()));
  only_keys(j, {"min_parameters", "max_parameters", "runs", "log_ratio_quantiles"}, where, source);
  calibration_band b;
  b.min_parameters = integer_at(j, "min_parameters", 1, where, source);
  b.max_parameters = integer_at(j, "max_parameters", b.min_parameters, where, source);
  b.runs = static_cast<std::size_t>(integer_at(j, "runs", 1, where, source));
  const auto q = ascending_at(j, "log_ratio_quantiles", calibration_points, where, source);
  std::copy(q.begin(), q.end(), b.log_ratio_quantiles.begin());
  return b;
}

/// The `intervals` object of a model file.
inline interval_calibration calibration_from(const nlohmann::json& j, const std::string& source) {
  const std::string where = "intervals: ";
  only_keys(j, {"method", "folds", "seed", "probabilities", "bands"}, where, source);
  interval_calibration c;
  c.folds = static_cast<int>(integer_at(j, "folds", 2, where, source));
  c.seed = static_cast<std::uint64_t>(integer_at(j, "seed", 0, where, source));
  const auto p = ascending_at(j, "probabilities", calibration_points, where, source);
  for (std::size_t k = 0; k < calibration_points; ++k)
    if (std::fabs(p[k] - calibration_probabilities[k]) > 1e-12)
      throw invalid_input(fmt::format("{}: {}probabilities[{}] must be {}, got {}", source, where,
                                      k, calibration_probabilities[k], p[k]));
  if (!j.contains("bands") || !j["bands"].is_array() || j["bands"].empty())
    throw invalid_input(
        fmt::format("{}: {}field 'bands' must be a non-empty array", source, where));
  for (std::size_t i = 0; i < j["bands"].size(); ++i) {
    const std::string band = fmt::format("{}bands[{}]: ", where, i);
    c.bands.push_back(band_from(j["bands"][i], band, source));
    if (i > 0 && c.bands[i].min_parameters <= c.bands[i - 1].max_parameters)
      throw invalid_input(
          fmt::format("{}: {}field 'min_parameters' must be above the previous "
                      "band's max_parameters {}, got {}",
                      source, band, c.bands[i - 1].max_parameters, c.bands[i].min_parameters));
  }
  return c;
}

/// The `domain` object of a model file, on hierarchy `h`.
inline model_domain domain_from(const nlohmann::json& j, const hierarchy& h,
                                const std::string& source) {
  const std::string where = "domain: ";
  only_keys(j,
            {"runs", "parameters", "depth", "width", "batch", "epochs", "train_examples",
             "eval_examples", "bytes_per_value", "hierarchy"},
            where, source);
  model_domain d;
  d.runs = static_cast<std::size_t>(integer_at(j, "runs", 1, where, source));
  for (const auto& [name, member] : domain_dimensions) {
    const std::string key(name);
    const auto r = ascending_at(j, key.c_str(), 2, where, source);
    if (r[0] < 0)
      throw invalid_input(fmt::format("{}: {}field '{}' must not be negative, got {}", source,
                                      where, key, j[key].dump()));
    d.*member = value_range{r[0], r[1]};
  }
  d.bytes_per_value = integer_at(j, "bytes_per_value", 1, where, source);
  if (d.bytes_per_value != 2 && d.bytes_per_value != 4 && d.bytes_per_value != 8)
    throw invalid_input(fmt::format("{}: {}field 'bytes_per_value' must be 2, 4 or 8, got {}",
                                    source, where, d.bytes_per_value));
  if (!j.contains("hierarchy") || !j["hierarchy"].is_string() || j["hierarchy"] != h.name())
    throw invalid_input(fmt::format(
        "{}: {}field 'hierarchy' must be the model's hardware \"{}\", "
        "got {}",
        source, where, h.name(), j.contains("hierarchy") ? j["hierarchy"].dump() : "nothing"));
  d.hierarchy = h.name();
  return d;
}

}  // namespace detail

/// @brief A model file from its JSON form, validated as strictly as the options that make it.
/// @param source the file name for error messages
/// @throws invalid_input naming the source and the missing or bad field
inline model_document model_from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw invalid_input(fmt::format("{}: expected a JSON object", source));
  if (!j.contains("format") || j["format"] != "wsenergy-model")
    throw invalid_input(fmt::format("{}: field 'format' must be \"wsenergy-model\", got {}", source,
                                    j.contains("format") ? j["format"].dump() : "nothing"));
  if (!j.contains("version") || !(j["version"] == 1 || j["version"] == 2))
    throw invalid_input(fmt::format("{}: field 'version' must be 1 or 2, got {}", source,
                                    j.contains("version") ? j["version"].dump() : "nothing"));
  const int version = j["version"].get<int>();
  if (!j.contains("hardware")) throw invalid_input(fmt::format("{}: missing field 'hardware'", source));
  const hierarchy h = hierarchy_from_json(j["hardware"], source + ": hardware");
  const model_form form = detail::form_from_json(j, h, version, source);
  std::int64_t bytes_per_value = 4;
  if (j.contains("bytes_per_value")) {
    const auto& b = j["bytes_per_value"];
    if (!b.is_number_integer() || !(b.get<std::int64_t>() == 2 || b.get<std::int64_t>() == 4 ||
                                    b.get<std::int64_t>() == 8))
      throw invalid_input(fmt::format("{}: field 'bytes_per_value' must be 2, 4 or 8, got {}",
                                      source, b.dump()));
    bytes_per_value = b.get<std::int64_t>();
  }
  if (!j.contains("coefficients") || !j["coefficients"].is_array())
    throw invalid_input(fmt::format("{}: missing array 'coefficients'", source));
  std::vector<coefficient_record> records;
  std::vector<std::pair<std::string, double>> named;
  for (std::size_t i = 0; i < j["coefficients"].size(); ++i) {
    const auto& c = j["coefficients"][i];
    const std::string where = fmt::format("coefficients[{}]: ", i);
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string())
      throw invalid_input(fmt::format("{}: {}expected an object with a 'name', got {}", source,
                                      where, c.dump()));
    coefficient_record r;
    r.name = c["name"].get<std::string>();
    r.unit = c.value("unit", std::string());
    r.value = detail::non_negative(c, "value", where, source);
    auto number = [&](const char* key, double fallback) {
      return c.contains(key) && c[key].is_number() ? c[key].get<double>() : fallback;
    };
    r.std_error = number("std_error", 0.0);
    r.lower_95 = number("lower_95", r.value);
    r.upper_95 = number("upper_95", r.value);
    r.fitted = c.contains("fitted") && c["fitted"].is_boolean() ? c["fitted"].get<bool>() : true;
    const bool shape = r.name.rfind("scale_", 0) == 0 || r.name == "sharpness";
    if (!shape) named.emplace_back(r.name, r.value);
    records.push_back(std::move(r));
  }
  try {
    model_document d(energy_model<double>::from_names(h, form, named));
    d.bytes_per_value = bytes_per_value;
    if (j.contains("target")) {
      if (!j["target"].is_string())
        throw invalid_input(fmt::format("{}: field 'target' must be \"energy\" or \"duration\", "
                                        "got {}", source, j["target"].dump()));
      d.target = parse_target(j["target"].get<std::string>());
    }
    d.coefficients = std::move(records);
    if (j.contains("baselines")) {
      const auto& b = detail::object_at(j, "baselines", source);
      if (b.contains("flops_only"))
        d.flops_only = detail::model_from_map(h, term_sets::flops_only, b["flops_only"],
                                              "baselines: flops_only: ", source);
      if (b.contains("flops_steps"))
        d.flops_steps = detail::model_from_map(h, term_sets::flops_steps, b["flops_steps"],
                                               "baselines: flops_steps: ", source);
    }
    if (j.contains("fit")) d.fit = detail::object_at(j, "fit", source);
    if (j.contains("intervals"))
      d.scope.calibration =
          detail::calibration_from(detail::object_at(j, "intervals", source), source);
    if (j.contains("domain"))
      d.scope.domain = detail::domain_from(detail::object_at(j, "domain", source), h, source);
    return d;
  } catch (const invalid_input& e) {
    const std::string what = e.what();
    if (what.rfind(source, 0) == 0) throw;
    throw invalid_input(fmt::format("{}: {}", source, what));
  }
}

/// @brief Reads a whole model file.
/// @throws invalid_input naming the file (and line and column for a syntax error)
inline model_document read_model_document(const std::filesystem::path& file) {
  const std::string text = read_text_file(file);  // a regular file, bounded (io/files.hpp)
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw invalid_input(fmt::format("{}: not valid JSON: {}", file.string(), e.what()));
  }
  try {
    return model_from_json(j, file.string());
  } catch (const nlohmann::json::exception& e) {  // a type error the checks above missed
    throw invalid_input(fmt::format("{}: {}", file.string(), e.what()));
  }
}

/// @brief Reads the model of a model file (what `wsenergy fit -o` writes).
/// @throws invalid_input naming the file and the bad field
inline energy_model<double> read_model(const std::filesystem::path& file) {
  return read_model_document(file).model;
}

/// @brief Writes a model file atomically (nothing half-written on failure).
inline void write_model(const std::filesystem::path& file, const model_document& d) {
  write_file_atomically(file, to_json(d).dump(2) + "\n");
}

/// @brief Writes a bare model (no intervals, no fit record) atomically.
inline void write_model(const std::filesystem::path& file, const energy_model<double>& m) {
  write_model(file, model_document(m));
}

}  // namespace wsenergy::io
