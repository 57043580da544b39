#pragma once
/// @file io/network_json.hpp
/// @brief A network and its run as a JSON file (target `wsenergy::io`), what `--network FILE`
/// reads (docs/guide.md):
///
///     {"inputs": 784, "widths": [1024, 512, 10], "dtype": "fp32",
///      "train_examples": 60000, "eval_examples": 10000, "batch": 128, "epochs": 20}
///
/// Every key is optional here (`resolve_network` says what a command misses). Besides these a
/// file may name a BUTTER `dataset`, `outputs`, or a `shape` with `size` and `depth` instead of
/// widths. The `--json` output of `wsenergy topology` and `working-sets` is such a file: its
/// `parameters` must match the widths, and its `relative_error`, `accepted`, `hardware` and
/// `sets` are read past. Any other key, a wrong type or a bad value is an error naming the file
/// and the field.

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "wsenergy/dtype.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/io/files.hpp"
#include "wsenergy/io/resolve.hpp"

namespace wsenergy::io {

/// @brief The keys of a network file that describe the network and its run.
inline constexpr std::array<std::string_view, 13> network_keys = {
    "inputs",  "widths",  "dtype", "train_examples", "eval_examples", "batch",     "epochs",
    "dataset", "outputs", "shape", "size",           "depth",         "parameters"};

/// @brief Keys of `topology --json` and `working-sets --json` output that a network file may
/// hold and that describe no input (they are read past).
inline constexpr std::array<std::string_view, 4> network_output_keys = {
    "relative_error", "accepted", "hardware", "sets"};

namespace detail {

/// A whole number at `key`: positive, or non-negative with `allow_zero`.
inline std::int64_t network_count(const nlohmann::json& v, std::string_view key, bool allow_zero,
                                  const std::string& source) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < (allow_zero ? 0 : 1) ||
      (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t{INT64_MAX}))
    throw invalid_input(fmt::format("{}: field '{}' must be a {} whole number, got {}", source, key,
                                    allow_zero ? "non-negative" : "positive", v.dump()));
  return v.get<std::int64_t>();
}

/// A string at `key`.
inline std::string network_text(const nlohmann::json& v, std::string_view key,
                                const std::string& source) {
  if (!v.is_string())
    throw invalid_input(
        fmt::format("{}: field '{}' must be a string, got {}", source, key, v.dump()));
  return v.get<std::string>();
}

/// The layer widths at `widths`: an array of at least two positive whole numbers.
inline std::vector<std::int64_t> network_widths(const nlohmann::json& v,
                                                const std::string& source) {
  if (!v.is_array() || v.size() < 2 || v.size() > static_cast<std::size_t>(max_depth))
    throw invalid_input(fmt::format(
        "{}: field 'widths' must be an array of 2 to {} layer widths, output last, got {}", source,
        max_depth, v.dump()));
  std::vector<std::int64_t> widths;
  for (std::size_t k = 0; k < v.size(); ++k)
    widths.push_back(network_count(v[k], fmt::format("widths[{}]", k), false, source));
  return widths;
}

/// The value type at `dtype`: one of its names.
inline dtype network_dtype(const nlohmann::json& v, const std::string& source) {
  const auto t = v.is_string() ? dtype_from_name(v.get<std::string>()) : std::nullopt;
  if (!t)
    throw invalid_input(fmt::format("{}: field 'dtype' must be one of {}, got {}", source,
                                    dtype_names(), v.dump()));
  return *t;
}

/// The field of a request that a positive whole number at `key` fills.
inline std::optional<std::int64_t> network_request::*network_count_field(std::string_view key) {
  using field = std::optional<std::int64_t> network_request::*;
  static constexpr std::array<std::pair<std::string_view, field>, 7> fields = {
      {{"inputs", &network_request::inputs},
       {"outputs", &network_request::outputs},
       {"train_examples", &network_request::train_examples},
       {"batch", &network_request::batch},
       {"epochs", &network_request::epochs},
       {"size", &network_request::size},
       {"depth", &network_request::depth}}};
  for (const auto& [name, f] : fields)
    if (key == name) return f;
  WSENERGY_EXPECTS(false, "a key of a count");
  return nullptr;
}

}  // namespace detail

/// @brief A network request from the JSON of a network file.
/// @param source names the origin (a file path) in error messages
/// @throws invalid_input naming the source and the field for anything but an object of the keys
/// above with values of their types, or `parameters` that differ from the widths' count
inline network_request network_from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw invalid_input(fmt::format("{}: expected a JSON object", source));
  network_request q;
  for (const auto& item : j.items()) {
    const std::string key = item.key();
    const nlohmann::json& v = item.value();
    const auto known = [&](const auto& keys) {
      return std::find(keys.begin(), keys.end(), key) != keys.end();
    };
    if (known(network_output_keys)) continue;
    if (!known(network_keys))
      throw invalid_input(fmt::format("{}: unknown key '{}' (a network file holds {})", source, key,
                                      fmt::join(network_keys, ", ")));
    if (key == "widths")
      q.widths = detail::network_widths(v, source);
    else if (key == "dtype")
      q.type = detail::network_dtype(v, source);
    else if (key == "dataset")
      q.dataset = detail::network_text(v, key, source);
    else if (key == "shape")
      q.shape = detail::network_text(v, key, source);
    else if (key == "eval_examples")
      q.eval_examples = detail::network_count(v, key, true, source);
    else if (key == "parameters")
      (void)detail::network_count(v, key, false, source);
    else
      q.*detail::network_count_field(key) = detail::network_count(v, key, false, source);
  }
  if (j.contains("parameters") && q.widths && q.inputs) {
    const std::int64_t p = parameter_count(*q.inputs, *q.widths);
    if (j["parameters"].get<std::int64_t>() != p)
      throw invalid_input(fmt::format(
          "{}: field 'parameters' is {}, but {} inputs and widths {} have {} parameters", source,
          j["parameters"].dump(), *q.inputs, fmt::join(*q.widths, ","), p));
  }
  return q;
}

/// @brief Reads a network file (`-`: standard input).
/// @throws invalid_input naming the file (and line and column for a syntax error) or the field
inline network_request read_network(const std::filesystem::path& file) {
  const std::string source = file == "-" ? std::string("standard input") : file.string();
  const std::string text = read_text_file_or_stdin(file);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw invalid_input(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  return network_from_json(j, source);
}

/// @brief The network file of a resolved network: inputs, outputs, widths, parameters, dtype,
/// the data set when there is one and, with `network_use::run`, the run.
inline nlohmann::json network_json(const resolved_network& r, network_use use) {
  nlohmann::json j = {{"inputs", r.net.inputs()},
                      {"outputs", r.net.outputs()},
                      {"widths", r.net.widths()},
                      {"parameters", r.net.parameters()},
                      {"dtype", std::string(to_string(r.type))}};
  if (!r.dataset.empty()) j["dataset"] = r.dataset;
  if (use == network_use::run) {
    j["train_examples"] = r.run.train_examples;
    j["eval_examples"] = r.run.eval_examples;
    j["batch"] = r.run.batch;
    j["epochs"] = r.run.epochs;
  }
  return j;
}

}  // namespace wsenergy::io
