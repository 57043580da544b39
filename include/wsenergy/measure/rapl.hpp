#pragma once
/// @file measure/rapl.hpp
/// @brief Intel/AMD RAPL energy counters through Linux powercap (`/sys/class/powercap`): the
/// package and DRAM domains of every socket (docs/measuring.md).

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"
#include "wsenergy/measure/meter.hpp"

namespace wsenergy::measure {

/// @brief What reading a small sysfs file gave: its text, or the `errno` of the failure.
struct read_result {
  std::string text;  ///< contents (valid when `error == 0`)
  int error = 0;     ///< errno of the failed open or read; 0 on success
};

/// @brief Reads a whole small file; tests inject their own to simulate failures.
using file_reader = std::function<read_result(const std::filesystem::path&)>;

/// @brief The reader used normally: `open` + `read`, keeping `errno` (a directory gives EISDIR).
inline read_result read_small_file(const std::filesystem::path& file) {
  read_result r;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    r.error = errno;
    return r;
  }
  char buffer[256];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      r.error = errno;
      break;
    }
    if (n == 0) break;
    r.text.append(buffer, static_cast<std::size_t>(n));
    if (r.text.size() > 4096) break;
  }
  ::close(fd);
  return r;
}

namespace detail {

/// The one-line explanation of a failed counter read.
inline std::string rapl_read_error(const std::filesystem::path& file, int error) {
  if (error == EACCES || error == EPERM)
    return fmt::format(
        "{}: permission denied: Linux 5.10 and later let only root read RAPL energy counters "
        "(CVE-2020-8694); run as root, or grant read access with `sudo chmod a+r "
        "/sys/class/powercap/intel-rapl:*/energy_uj /sys/class/powercap/intel-rapl:*:*/energy_uj` "
        "(until the next boot)",
        file.string());
  return fmt::format("{}: cannot read: {}", file.string(), std::strerror(error));
}

inline std::uint64_t read_counter(const file_reader& reader, const std::filesystem::path& file) {
  const read_result r = reader(file);
  if (r.error != 0) throw invalid_input(rapl_read_error(file, r.error));
  std::string_view text = r.text;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
    throw invalid_input(
        fmt::format("{}: expected a whole number of microjoules, got '{}'", file.string(), text));
  return value;
}

inline std::string read_name(const file_reader& reader, const std::filesystem::path& file) {
  const read_result r = reader(file);
  if (r.error != 0) throw invalid_input(rapl_read_error(file, r.error));
  std::string name = r.text;
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  return name;
}

/// The index N of `prefix` + "N" (a whole directory name), or nothing.
inline std::optional<int> rapl_index(std::string_view name, std::string_view prefix) {
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  name.remove_prefix(prefix.size());
  int n = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec != std::errc{} || end != name.data() + name.size() || name.empty()) return std::nullopt;
  return n;
}

}  // namespace detail

/// @brief RAPL through powercap: `package-N` for every `intel-rapl:N` whose name starts with
/// "package" (a `psys` platform domain is skipped: it would count the packages twice) and `dram-N`
/// for every `intel-rapl:N:M` named "dram". Counters are `energy_uj`, wrapping at
/// `max_energy_range_uj`. Core and uncore sub-domains are parts of the package and are skipped.
class rapl_meter final : public energy_meter {
 public:
  /// @brief Finds the domains and reads every counter once, so a meter that opens also reads.
  /// @param root normally `/sys/class/powercap`; tests pass a fake tree
  /// @param reader how files are read; tests inject failures
  /// @throws invalid_input when there are no domains or a file cannot be read or parsed (for
  /// EACCES, a one-line explanation of the root-only counters of recent kernels)
  explicit rapl_meter(std::filesystem::path root = "/sys/class/powercap",
                      file_reader reader = read_small_file)
      : root_(std::move(root)), reader_(std::move(reader)) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(root_, ec))
      throw invalid_input(
          fmt::format("RAPL: {} does not exist (no powercap interface on this machine)",
                      root_.string()));
    std::vector<std::pair<int, fs::path>> packages;
    for (const auto& entry : fs::directory_iterator(root_, ec)) {
      const std::string name = entry.path().filename().string();
      if (auto n = detail::rapl_index(name, "intel-rapl:")) packages.emplace_back(*n, entry.path());
    }
    std::sort(packages.begin(), packages.end());
    for (const auto& [n, dir] : packages) {
      const std::string kind = detail::read_name(reader_, dir / "name");
      if (kind.rfind("package", 0) != 0) continue;
      add_domain(fmt::format("package-{}", n), dir);
      std::vector<std::pair<int, fs::path>> subs;
      for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (auto m = detail::rapl_index(name, fmt::format("intel-rapl:{}:", n)))
          subs.emplace_back(*m, entry.path());
      }
      std::sort(subs.begin(), subs.end());
      for (const auto& [m, sub] : subs)
        if (detail::read_name(reader_, sub / "name") == "dram")
          add_domain(fmt::format("dram-{}", n), sub);
    }
    if (domains_.empty())
      throw invalid_input(fmt::format(
          "RAPL: no package domains (intel-rapl:N with a 'package' name) under {}",
          root_.string()));
    (void)read_counts();
  }

  std::string name() const override { return "rapl"; }
  const std::vector<energy_domain>& domains() const override { return domains_; }

  /// @throws invalid_input naming the file when a counter cannot be read
  std::vector<std::uint64_t> read_counts() override {
    std::vector<std::uint64_t> counts;
    counts.reserve(files_.size());
    for (const auto& f : files_) counts.push_back(detail::read_counter(reader_, f));
    return counts;
  }

 private:
  void add_domain(std::string name, const std::filesystem::path& dir) {
    const std::uint64_t range = detail::read_counter(reader_, dir / "max_energy_range_uj");
    if (range == 0)
      throw invalid_input(
          fmt::format("{}: max_energy_range_uj is 0", (dir / "max_energy_range_uj").string()));
    domains_.push_back({std::move(name), 1e-6, range});
    files_.push_back(dir / "energy_uj");
  }

  std::filesystem::path root_;
  file_reader reader_;
  std::vector<energy_domain> domains_;
  std::vector<std::filesystem::path> files_;
};

}  // namespace wsenergy::measure
