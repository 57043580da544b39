#pragma once
/// @file io/model_json.hpp
/// @brief Fitted models as JSON files (target `wsenergy::io`): the hardware, the coefficients with
/// their intervals, the placement, the traffic accounting, how they were fitted, and the
/// comparison models refitted on the same runs. Format (docs/fitting.md):
///
///     {"format": "wsenergy-model", "version": 1,
///      "hardware": {"name": "eagle_gpu", "levels": [...]},
///      "placement": "hard",                      // or "smooth", with "smooth": {...}
///      "accounting": {"inter_layer_per_train_step": 3, ...},
///      "coefficients": [{"name": "run", "unit": "J", "value": 271978.4, "std_error": 1230,
///                        "lower_95": 269566, "upper_95": 274389, "fitted": true}, ...],
///      "baselines": {"flops_only": {"run": ..., "operations": ...}, "flops_steps": {...}},
///      "fit": {"runs": 1873, "converged": true, "residual": "relative", ...}}

#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "wsenergy/energy_model.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/io/csv.hpp"
#include "wsenergy/io/hierarchy_json.hpp"

namespace wsenergy::io {

/// @brief One coefficient as recorded in a model file.
struct coefficient_record {
  std::string name;      ///< `run`, ..., `operations`, `bytes_<level>`, `scale_<level>`, `sharpness`
  std::string unit;      ///< `J`, `J/step`, `J/op`, `J/B`, `1`
  double value = 0;      ///< fitted value
  double std_error = 0;  ///< standard error
  double lower_95 = 0;   ///< 95 % interval
  double upper_95 = 0;
  bool fitted = false;   ///< false when held at 0
};

/// @brief Everything a model file holds.
struct model_document {
  energy_model<double> model;                    ///< what predicts
  std::vector<coefficient_record> coefficients;  ///< with intervals, for reports
  /// Comparison models fitted on the same runs (docs/model.md section 6), when recorded.
  std::optional<wsenergy::coefficients<double>> flops_only, flops_steps;
  nlohmann::json fit = nlohmann::json::object();  ///< how it was fitted (free form)
};

/// @brief The name of coefficient slot `j` (scalar terms, then `bytes_<level>`).
inline std::string coefficient_slot_name(const hierarchy& h, std::size_t j) {
  if (j < scalar_terms) return std::string(to_string(all_terms[j]));
  return fmt::format("bytes_{}", h.level_name(j - scalar_terms));
}

namespace detail {

inline nlohmann::json coefficients_map(const hierarchy& h, const coefficients<double>& k) {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t t = 0; t < scalar_terms; ++t) j[coefficient_slot_name(h, t)] = k.per_unit_j[t];
  for (std::size_t l = 0; l < h.size(); ++l)
    j[coefficient_slot_name(h, scalar_terms + l)] = k.per_byte_j[l];
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

inline coefficients<double> coefficients_from_map(const hierarchy& h, const nlohmann::json& j,
                                                  const std::string& where,
                                                  const std::string& source) {
  if (!j.is_object())
    throw invalid_input(fmt::format("{}: {}expected an object, got {}", source, where, j.dump()));
  coefficients<double> k;
  k.levels = h.size();
  for (std::size_t t = 0; t < scalar_terms; ++t) {
    const std::string name = coefficient_slot_name(h, t);
    k.per_unit_j[t] = j.contains(name) ? non_negative(j, name, where, source) : 0.0;
  }
  for (std::size_t l = 0; l < h.size(); ++l) {
    const std::string name = coefficient_slot_name(h, scalar_terms + l);
    k.per_byte_j[l] = j.contains(name) ? non_negative(j, name, where, source) : 0.0;
  }
  return k;
}

}  // namespace detail

/// @brief The JSON form of a model file.
inline nlohmann::json to_json(const model_document& d) {
  const energy_model<double>& m = d.model;
  nlohmann::json j;
  j["format"] = "wsenergy-model";
  j["version"] = 1;
  j["hardware"] = to_json(m.hardware);
  j["placement"] = std::string(to_string(m.placement));
  if (m.placement == placement_mode::smooth) {
    std::vector<double> scales(m.smooth.capacity_scale.begin(),
                               m.smooth.capacity_scale.begin() +
                                   static_cast<std::ptrdiff_t>(m.hardware.size() - 1));
    j["smooth"] = {{"capacity_scale", scales}, {"sharpness", m.smooth.sharpness}};
  }
  const traffic_accounting& a = m.accounting;
  j["accounting"] = {{"inter_layer_per_train_step", a.inter_layer_per_train_step},
                     {"inter_layer_per_eval_step", a.inter_layer_per_eval_step},
                     {"forward_per_train_step", a.forward_per_train_step},
                     {"forward_per_eval_step", a.forward_per_eval_step},
                     {"backward_per_train_step", a.backward_per_train_step},
                     {"dataset_per_epoch", a.dataset_per_epoch}};
  nlohmann::json list = nlohmann::json::array();
  if (d.coefficients.empty()) {
    for (std::size_t s = 0; s < scalar_terms + m.hardware.size(); ++s) {
      const double v = s < scalar_terms ? m.coeffs.per_unit_j[s] : m.coeffs.per_byte_j[s - scalar_terms];
      list.push_back({{"name", coefficient_slot_name(m.hardware, s)}, {"value", v}});
    }
  }
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
  if (d.flops_only) baselines["flops_only"] = detail::coefficients_map(m.hardware, *d.flops_only);
  if (d.flops_steps) baselines["flops_steps"] = detail::coefficients_map(m.hardware, *d.flops_steps);
  j["baselines"] = baselines;
  j["fit"] = d.fit;
  return j;
}

/// @brief A model file from its JSON form.
/// @param source the file name for error messages
/// @throws invalid_input naming the source and the missing or bad field
inline model_document model_from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw invalid_input(fmt::format("{}: expected a JSON object", source));
  if (j.value("format", std::string()) != "wsenergy-model")
    throw invalid_input(fmt::format("{}: field 'format' must be \"wsenergy-model\", got {}", source,
                                    j.contains("format") ? j["format"].dump() : "nothing"));
  if (!j.contains("version") || j["version"] != 1)
    throw invalid_input(fmt::format("{}: field 'version' must be 1, got {}", source,
                                    j.contains("version") ? j["version"].dump() : "nothing"));
  if (!j.contains("hardware"))
    throw invalid_input(fmt::format("{}: missing field 'hardware'", source));
  model_document d;
  energy_model<double>& m = d.model;
  m.hardware = hierarchy_from_json(j["hardware"], source + ": hardware");
  const std::string placement = j.value("placement", std::string("hard"));
  if (placement == "hard") {
    m.placement = placement_mode::hard;
  } else if (placement == "smooth") {
    m.placement = placement_mode::smooth;
    if (!j.contains("smooth") || !j["smooth"].is_object())
      throw invalid_input(fmt::format("{}: placement \"smooth\" needs a 'smooth' object", source));
    const auto& s = j["smooth"];
    m.smooth.sharpness = detail::non_negative(s, "sharpness", "smooth: ", source);
    if (!s.contains("capacity_scale") || !s["capacity_scale"].is_array() ||
        s["capacity_scale"].size() != m.hardware.size() - 1)
      throw invalid_input(fmt::format("{}: smooth: field 'capacity_scale' must list {} numbers, "
                                      "got {}",
                                      source, m.hardware.size() - 1,
                                      s.contains("capacity_scale") ? s["capacity_scale"].dump() : "nothing"));
    for (std::size_t k = 0; k + 1 < m.hardware.size(); ++k) {
      const auto& v = s["capacity_scale"][k];
      if (!v.is_number() || !(v.get<double>() > 0))
        throw invalid_input(fmt::format("{}: smooth: capacity_scale[{}] must be positive, got {}",
                                        source, k, v.dump()));
      m.smooth.capacity_scale[k] = v.get<double>();
    }
  } else {
    throw invalid_input(fmt::format("{}: field 'placement' must be \"hard\" or \"smooth\", got "
                                    "\"{}\"",
                                    source, placement));
  }
  if (j.contains("accounting")) {
    const auto& a = j["accounting"];
    auto field = [&](const char* key, double& out) {
      if (a.contains(key)) out = detail::non_negative(a, key, "accounting: ", source);
    };
    field("inter_layer_per_train_step", m.accounting.inter_layer_per_train_step);
    field("inter_layer_per_eval_step", m.accounting.inter_layer_per_eval_step);
    field("forward_per_train_step", m.accounting.forward_per_train_step);
    field("forward_per_eval_step", m.accounting.forward_per_eval_step);
    field("backward_per_train_step", m.accounting.backward_per_train_step);
    field("dataset_per_epoch", m.accounting.dataset_per_epoch);
  }
  if (!j.contains("coefficients") || !j["coefficients"].is_array())
    throw invalid_input(fmt::format("{}: missing array 'coefficients'", source));
  m.coeffs.levels = m.hardware.size();
  std::vector<bool> seen(scalar_terms + m.hardware.size(), false);
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
    r.std_error = c.contains("std_error") && c["std_error"].is_number() ? c["std_error"].get<double>() : 0.0;
    r.lower_95 = c.contains("lower_95") && c["lower_95"].is_number() ? c["lower_95"].get<double>() : r.value;
    r.upper_95 = c.contains("upper_95") && c["upper_95"].is_number() ? c["upper_95"].get<double>() : r.value;
    r.fitted = c.value("fitted", true);
    bool known = r.name.rfind("scale_", 0) == 0 || r.name == "sharpness";
    for (std::size_t s = 0; s < seen.size(); ++s) {
      if (coefficient_slot_name(m.hardware, s) != r.name) continue;
      known = true;
      seen[s] = true;
      if (s < scalar_terms)
        m.coeffs.per_unit_j[s] = r.value;
      else
        m.coeffs.per_byte_j[s - scalar_terms] = r.value;
    }
    if (!known)
      throw invalid_input(fmt::format("{}: {}unknown coefficient '{}' for hardware '{}'", source,
                                      where, r.name, m.hardware.name()));
    d.coefficients.push_back(std::move(r));
  }
  for (std::size_t s = 0; s < seen.size(); ++s)
    if (!seen[s])
      throw invalid_input(fmt::format("{}: coefficients: missing '{}'", source,
                                      coefficient_slot_name(m.hardware, s)));
  if (j.contains("baselines") && j["baselines"].is_object()) {
    const auto& b = j["baselines"];
    if (b.contains("flops_only"))
      d.flops_only = detail::coefficients_from_map(m.hardware, b["flops_only"],
                                                   "baselines: flops_only: ", source);
    if (b.contains("flops_steps"))
      d.flops_steps = detail::coefficients_from_map(m.hardware, b["flops_steps"],
                                                    "baselines: flops_steps: ", source);
  }
  if (j.contains("fit")) d.fit = j["fit"];
  return d;
}

/// @brief Reads a whole model file.
/// @throws invalid_input naming the file (and line and column for a syntax error)
inline model_document read_model_document(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw invalid_input(fmt::format("{}: cannot open the model file", file.string()));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw invalid_input(fmt::format("{}: not valid JSON: {}", file.string(), e.what()));
  }
  return model_from_json(j, file.string());
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
  model_document d;
  d.model = m;
  write_model(file, d);
}

}  // namespace wsenergy::io
