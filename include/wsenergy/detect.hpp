#pragma once
/// @file detect.hpp
/// @brief Reads the host's cache hierarchy from Linux sysfs and its main memory from /proc/meminfo.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"
#include "wsenergy/hierarchy.hpp"

namespace wsenergy {

namespace detail {

inline std::string read_first_line(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw invalid_input(fmt::format("{}: cannot be read", file.string()));
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' '))
    line.pop_back();
  return line;
}

inline std::uint64_t parse_unsigned(std::string_view text, const std::filesystem::path& file) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data())
    throw invalid_input(fmt::format("{}: expected a number, got '{}'", file.string(), text));
  return value;
}

/// "32K", "1024K", "8M", "1G" or plain bytes, as sysfs writes cache sizes.
inline std::uint64_t parse_cache_size(std::string_view text, const std::filesystem::path& file) {
  std::uint64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K': scale = 1024; break;
      case 'M': scale = 1024 * 1024; break;
      case 'G': scale = 1024ull * 1024 * 1024; break;
      default: break;
    }
    if (scale != 1) text.remove_suffix(1);
  }
  return parse_unsigned(text, file) * scale;
}

/// The CPUs of a list such as "0-3,8,10-11".
inline std::set<std::uint64_t> parse_cpu_list(std::string_view text,
                                              const std::filesystem::path& file) {
  std::set<std::uint64_t> cpus;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    const auto dash = item.find('-');
    const std::uint64_t first = parse_unsigned(item.substr(0, dash), file);
    const std::uint64_t last =
        dash == std::string_view::npos ? first : parse_unsigned(item.substr(dash + 1), file);
    if (last < first || last - first > 65536)
      throw invalid_input(fmt::format("{}: bad CPU range '{}'", file.string(), item));
    for (std::uint64_t c = first; c <= last; ++c) cpus.insert(c);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return cpus;
}

}  // namespace detail

/// @brief The host's data-cache hierarchy plus main memory.
///
/// Every `cpu*/cache/index*` directory of type Data or Unified contributes a level; the number of
/// units of a level is the number of distinct `shared_cpu_list` values at that level (one per core
/// for a private L1d, one per socket for a shared L3). Main memory is `MemTotal` of `meminfo`.
/// @param cpu_root normally `/sys/devices/system/cpu`; tests pass a fake tree
/// @param meminfo normally `/proc/meminfo`
/// @throws invalid_input when the tree is absent or a file in it is malformed
inline hierarchy detect_host(const std::filesystem::path& cpu_root = "/sys/devices/system/cpu",
                             const std::filesystem::path& meminfo = "/proc/meminfo") {
  namespace fs = std::filesystem;
  struct level_info {
    std::uint64_t size_bytes = 0;
    std::set<std::set<std::uint64_t>> sharing;
  };
  std::map<std::uint64_t, level_info> by_level;
  std::error_code ec;
  if (!fs::is_directory(cpu_root, ec))
    throw invalid_input(fmt::format(
        "host: {} does not exist, so the cache hierarchy cannot be detected; pass a hierarchy "
        "JSON file or a preset instead",
        cpu_root.string()));
  for (const auto& cpu : fs::directory_iterator(cpu_root, ec)) {
    const std::string name = cpu.path().filename().string();
    if (name.size() < 4 || name.rfind("cpu", 0) != 0 ||
        !std::all_of(name.begin() + 3, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const fs::path cache = cpu.path() / "cache";
    if (!fs::is_directory(cache, ec)) continue;
    for (const auto& index : fs::directory_iterator(cache, ec)) {
      if (index.path().filename().string().rfind("index", 0) != 0) continue;
      const fs::path dir = index.path();
      const std::string type = detail::read_first_line(dir / "type");
      if (type != "Data" && type != "Unified") continue;
      const std::uint64_t level =
          detail::parse_unsigned(detail::read_first_line(dir / "level"), dir / "level");
      const std::uint64_t size =
          detail::parse_cache_size(detail::read_first_line(dir / "size"), dir / "size");
      auto cpus = detail::parse_cpu_list(detail::read_first_line(dir / "shared_cpu_list"),
                                         dir / "shared_cpu_list");
      level_info& info = by_level[level];
      if (size == 0) throw invalid_input(fmt::format("{}: cache size is 0", (dir / "size").string()));
      info.size_bytes = info.size_bytes == 0 ? size : std::min(info.size_bytes, size);
      info.sharing.insert(std::move(cpus));
    }
  }
  if (by_level.empty())
    throw invalid_input(fmt::format(
        "host: no data caches under {}/cpu*/cache/index*, so the cache hierarchy cannot be "
        "detected; pass a hierarchy JSON file or a preset instead",
        cpu_root.string()));

  std::uint64_t memory_bytes = 0;
  {
    std::ifstream in(meminfo);
    if (!in)
      throw invalid_input(fmt::format("host: {} cannot be read for the main memory size",
                                      meminfo.string()));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("MemTotal:", 0) != 0) continue;
      std::string_view rest(line);
      rest.remove_prefix(9);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      const auto space = rest.find(' ');
      memory_bytes = detail::parse_unsigned(rest.substr(0, space), meminfo) * 1024;
      break;
    }
    if (memory_bytes == 0)
      throw invalid_input(fmt::format("host: {} has no MemTotal line", meminfo.string()));
  }

  std::vector<std::string> names;
  std::vector<memory_level> levels;
  for (const auto& [level, info] : by_level) {
    names.push_back(level == 1 ? "L1d" : fmt::format("L{}", level));
    levels.push_back({info.size_bytes, static_cast<std::uint64_t>(info.sharing.size())});
  }
  names.emplace_back("DRAM");
  levels.push_back({memory_bytes, 1});
  return hierarchy("host", std::move(names), std::move(levels));
}

}  // namespace wsenergy
