#pragma once
/// @file measure/measure.hpp
/// @brief Choosing meters (`auto` takes every one that works) and measuring one command: duration
/// always, energy per domain when a meter exists, and never a number where none does.

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"
#include "wsenergy/measure/meter.hpp"
#include "wsenergy/measure/nvml.hpp"
#include "wsenergy/measure/process.hpp"
#include "wsenergy/measure/rapl.hpp"

namespace wsenergy::measure {

/// @brief Which meters to use.
enum class meter_choice { automatic, rapl, nvml, none };

/// @brief `auto`, `rapl`, `nvml` or `none`.
/// @throws invalid_input naming the value and the choices
inline meter_choice parse_meter_choice(std::string_view text) {
  if (text == "auto") return meter_choice::automatic;
  if (text == "rapl") return meter_choice::rapl;
  if (text == "nvml") return meter_choice::nvml;
  if (text == "none") return meter_choice::none;
  throw invalid_input(
      fmt::format("meter: unknown meter '{}' (choose auto, rapl, nvml or none)", text));
}

/// @brief Where meters look; tests point these at fakes.
struct meter_options {
  std::filesystem::path powercap_root = "/sys/class/powercap";  ///< RAPL's sysfs tree
  file_reader reader = read_small_file;                         ///< how RAPL files are read
  std::string nvml_library = "libnvidia-ml.so.1";               ///< NVML's shared library
};

/// @brief The meters in use and, for those that could not be used, why.
struct meter_set {
  std::vector<std::unique_ptr<energy_meter>> meters;  ///< every working meter
  std::vector<std::string> unavailable;               ///< one line per meter that is not used

  /// True when at least one meter measures energy.
  bool measures_energy() const noexcept { return !meters.empty(); }
  /// Names of the meters in use joined by '+' (`rapl+nvml`), or `none`.
  std::string names() const {
    if (meters.empty()) return "none";
    std::string s;
    for (const auto& m : meters) s += (s.empty() ? "" : "+") + m->name();
    return s;
  }
};

/// @brief Opens the meters of a choice.
///
/// `automatic` tries RAPL and NVML and keeps those that open, recording why the others did not;
/// `rapl` and `nvml` insist on theirs; `none` measures duration only.
/// @throws invalid_input when an explicitly chosen meter cannot be used (the message says why)
inline meter_set open_meters(meter_choice choice, const meter_options& options = {}) {
  meter_set set;
  auto try_open = [&](auto&& make, bool required) {
    try {
      set.meters.push_back(make());
    } catch (const invalid_input& e) {
      if (required) throw;
      set.unavailable.emplace_back(e.what());
    }
  };
  const bool automatic = choice == meter_choice::automatic;
  if (automatic || choice == meter_choice::rapl)
    try_open([&] { return std::make_unique<rapl_meter>(options.powercap_root, options.reader); },
             !automatic);
  if (automatic || choice == meter_choice::nvml)
    try_open([&] { return std::make_unique<nvml_meter>(options.nvml_library); }, !automatic);
  return set;
}

/// @brief One measured command.
struct measurement {
  process_result process;                                ///< how the command ended
  double duration_s = 0;                                 ///< wall-clock time of the command
  std::string started_at;                                ///< UTC start, ISO 8601
  std::string meters = "none";                           ///< meters used (`rapl+nvml`, `none`)
  std::vector<std::pair<std::string, double>> by_domain;  ///< joules per domain
  std::optional<double> energy_j;  ///< sum over domains; nothing when energy was not measured
  std::string energy_note;         ///< why energy is missing, when it is

  /// `package-0=12.5;dram-0=1.25`.
  std::string by_domain_text() const {
    std::string s;
    for (const auto& [name, j] : by_domain)
      s += fmt::format("{}{}={:.6g}", s.empty() ? "" : ";", name, j);
    return s;
  }
};

namespace detail {
inline std::string utc_now_iso() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}
}  // namespace detail

/// @brief A measurement in progress: every meter is read and the clock started when it is made;
/// `finish` reads them again. Whatever runs in between is what is measured: a child process
/// (`measure_command`), or a block of code in this process (the Python module's `measure`).
///
/// Where no meter works, a reading fails or no counter advanced, `energy_j` stays empty and
/// `energy_note` says why: no number is ever made up.
class measurement_session {
 public:
  /// @brief Reads every meter of `meters` (kept by reference until `finish`) and starts the clock.
  explicit measurement_session(meter_set& meters) : meters_(meters) {
    m_.meters = meters.names();
    m_.started_at = detail::utc_now_iso();
    try {
      for (auto& meter : meters_.meters) before_.push_back(meter->read_counts());
    } catch (const invalid_input& e) {
      read_error_ = e.what();
    }
    clock_.start();
  }

  /// @brief The measurement from the start to now, with how the measured work ended.
  measurement finish(process_result how) {
    measurement m = m_;
    m.process = std::move(how);
    m.duration_s = clock_.elapsed_s();
    std::string read_error = read_error_;
    if (read_error.empty() && meters_.measures_energy()) {
      try {
        double total = 0;
        for (std::size_t i = 0; i < meters_.meters.size(); ++i) {
          energy_meter& meter = *meters_.meters[i];
          const auto joules = energy_between(meter.domains(), before_[i], meter.read_counts());
          for (std::size_t d = 0; d < joules.size(); ++d) {
            m.by_domain.emplace_back(meter.domains()[d].name, joules[d]);
            total += joules[d];
          }
        }
        if (total > 0)
          m.energy_j = total;
        else  // a runs file holds no energy of 0 J: such a row could not be read back
          read_error = "no counter advanced (the work was shorter than the meters' update interval)";
      } catch (const invalid_input& e) {
        read_error = e.what();
      }
    }
    if (!m.energy_j) {
      m.by_domain.clear();
      m.energy_note = note_without_energy(read_error);
    }
    return m;
  }

 private:
  std::string note_without_energy(const std::string& read_error) const {
    if (!read_error.empty()) return fmt::format("energy not measured: {}", read_error);
    std::string why;
    for (const auto& u : meters_.unavailable) why += (why.empty() ? "" : "; ") + u;
    return why.empty() ? "energy not measured: no meter was asked for (meter none)"
                       : fmt::format("energy not measured: no energy meter on this machine ({})",
                                     why);
  }

  meter_set& meters_;
  measurement m_;
  std::vector<std::vector<std::uint64_t>> before_;
  std::string read_error_;
  wall_clock clock_;
};

/// @brief Runs a command between two readings of every meter (a `measurement_session` around
/// the child: read just before it starts, and just after it ends). A command that fails still
/// has its duration and energy recorded.
inline measurement measure_command(meter_set& meters, const std::vector<std::string>& argv,
                                   const process_output& output = {}) {
  measurement_session session(meters);
  return session.finish(run_process(argv, output));
}

}  // namespace wsenergy::measure
