#pragma once
/// @file measure/shard.hpp
/// @brief Sweeps split across processes and cluster nodes: shards of a plan (`--shard I/N`, or a
/// SLURM array task), the scheduler context a row records, a plan's hash, and claims that keep
/// two sweeps of one plan from running the same configuration at once (docs/cluster.md).

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "wsenergy/error.hpp"

namespace wsenergy::measure {

/// @brief The I-th of N interleaved slices of a plan, 1-based: plan rows I, I+N, I+2N, ...
struct shard {
  int index = 1;  ///< 1 ... count
  int count = 1;  ///< slices in all

  /// @brief Whether the plan row at 0-based `row` belongs to this shard.
  constexpr bool contains(std::size_t row) const noexcept {
    return static_cast<int>(row % static_cast<std::size_t>(count)) == index - 1;
  }
  /// @brief `I/N`.
  std::string text() const { return fmt::format("{}/{}", index, count); }
};

namespace detail {

inline std::optional<int> parse_positive_int(std::string_view text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace detail

/// @brief Parses `I/N` (1 <= I <= N).
/// @param label names the source in the error, e.g. `shard` or `SLURM_ARRAY_TASK_ID`
/// @throws invalid_input naming the label and the text when it is malformed or out of range
inline shard parse_shard(std::string_view text, std::string_view label = "shard") {
  const auto slash = text.find('/');
  auto fail = [&](std::string_view what) {
    return invalid_input(fmt::format("{} '{}': {}", label, text, what));
  };
  if (slash == std::string_view::npos) throw fail("expected I/N, e.g. 2/4 (1-based)");
  const auto i = detail::parse_positive_int(text.substr(0, slash));
  const auto n = detail::parse_positive_int(text.substr(slash + 1));
  if (!i || !n) throw fail("expected I/N with whole numbers, e.g. 2/4 (1-based)");
  if (*n < 1) throw fail("N must be at least 1");
  if (*i < 1 || *i > *n) throw fail(fmt::format("I must be between 1 and N ({})", *n));
  return {*i, *n};
}

/// @brief Reads an environment variable; tests pass their own lookup.
using env_lookup = std::function<const char*(const char*)>;

/// @brief The process environment.
inline const char* process_env(const char* name) { return std::getenv(name); }

/// @brief A SLURM array task: its id and the shard it stands for.
struct array_task {
  int task_id = 0;  ///< SLURM_ARRAY_TASK_ID
  shard slice;      ///< index = id - SLURM_ARRAY_TASK_MIN + 1, count = SLURM_ARRAY_TASK_COUNT
};

/// @brief The array task this process runs in, or nothing outside a SLURM array job.
/// @throws invalid_input naming the variable and value when one is set but malformed, or when
/// the ids do not make a shard (a task id outside MIN ... MIN + COUNT - 1)
inline std::optional<array_task> slurm_array_task(const env_lookup& env = process_env) {
  const char* id_text = env("SLURM_ARRAY_TASK_ID");
  if (!id_text) return std::nullopt;
  auto number = [&](const char* name, bool required) -> std::optional<int> {
    const char* v = env(name);
    if (!v) {
      if (!required) return std::nullopt;
      throw invalid_input(
          fmt::format("{}: not set, though SLURM_ARRAY_TASK_ID is ({})", name, id_text));
    }
    const auto n = detail::parse_positive_int(v);
    if (!n || *n < 0) throw invalid_input(fmt::format("{}='{}': expected a whole number", name, v));
    return n;
  };
  const int id = *number("SLURM_ARRAY_TASK_ID", true);
  const int count = *number("SLURM_ARRAY_TASK_COUNT", true);
  const int min = number("SLURM_ARRAY_TASK_MIN", false).value_or(1);
  const int index = id - min + 1;
  if (count < 1 || index < 1 || index > count)
    throw invalid_input(fmt::format(
        "SLURM_ARRAY_TASK_ID={} with SLURM_ARRAY_TASK_MIN={} and SLURM_ARRAY_TASK_COUNT={}: not "
        "one of {} contiguous tasks; give the shard as I/N",
        id, min, count, count));
  return array_task{id, {index, count}};
}

/// @brief A runs file name with an array task's id: `%a` replaced, or `.ID` before the
/// extension (`runs.csv` -> `runs.3.csv`).
inline std::filesystem::path with_task_id(const std::filesystem::path& out, int task_id) {
  std::string s = out.string();
  if (const auto p = s.find("%a"); p != std::string::npos) {
    s.replace(p, 2, fmt::format("{}", task_id));
    return s;
  }
  std::filesystem::path p = out;
  const std::string ext = p.extension().string();
  p.replace_filename(fmt::format("{}.{}{}", p.stem().string(), task_id, ext));
  return p;
}

/// @brief Where a row was measured: the scheduler's job, array task and node (empty outside one).
struct scheduler_context {
  std::string job_id;         ///< SLURM_ARRAY_JOB_ID for an array task, else SLURM_JOB_ID
  std::string array_task_id;  ///< SLURM_ARRAY_TASK_ID
  std::string node;           ///< SLURMD_NODENAME, else this host's name
};

/// @brief The context of this process.
inline scheduler_context current_scheduler_context(const env_lookup& env = process_env) {
  scheduler_context c;
  auto get = [&](const char* name) {
    const char* v = env(name);
    return v ? std::string(v) : std::string();
  };
  c.job_id = get("SLURM_ARRAY_JOB_ID");
  if (c.job_id.empty()) c.job_id = get("SLURM_JOB_ID");
  c.array_task_id = get("SLURM_ARRAY_TASK_ID");
  c.node = get("SLURMD_NODENAME");
  if (c.node.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) c.node = host;
  }
  return c;
}

/// @brief FNV-1a, 64 bits: a stable hash of text (not cryptographic).
constexpr std::uint64_t fnv1a64(std::string_view text) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (const char ch : text) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ull;
  }
  return h;
}

/// @brief Claims on configurations a sweep is running, so a second sweep into the same runs file
/// leaves them alone.
///
/// A claim is an open-file-description lock (`F_OFD_SETLK`) on one byte of `RUNS.claims`, at an
/// offset given by the hash of the run_id. The kernel drops it when the sweep ends or dies, so a
/// killed sweep leaves no stale claim behind. The file itself stays empty.
class run_claims {
 public:
  /// @brief Opens (creates) `runs_file` + `.claims`.
  /// @throws invalid_input when it cannot be created
  explicit run_claims(const std::filesystem::path& runs_file)
      : path_(runs_file.string() + ".claims") {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw invalid_input(fmt::format("{}: cannot open: {}", path_, std::strerror(errno)));
  }
  run_claims(const run_claims&) = delete;
  run_claims& operator=(const run_claims&) = delete;
  ~run_claims() {
    if (fd_ >= 0) ::close(fd_);
  }

  /// @brief Claims `run_id`; false when another sweep holds it now.
  /// @throws invalid_input when locking fails for another reason
  bool try_claim(std::string_view run_id) { return lock(run_id, F_WRLCK); }

  /// @brief Gives a claim back.
  void release(std::string_view run_id) { (void)lock(run_id, F_UNLCK); }

 private:
  bool lock(std::string_view run_id, short type) {
    struct flock l {};
    l.l_type = type;
    l.l_whence = SEEK_SET;
    l.l_start = static_cast<off_t>(fnv1a64(run_id) >> 2);
    l.l_len = 1;
    while (::fcntl(fd_, F_OFD_SETLK, &l) != 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EACCES) return false;
      throw invalid_input(
          fmt::format("{}: cannot claim '{}': {}", path_, run_id, std::strerror(errno)));
    }
    return true;
  }

  std::string path_;
  int fd_ = -1;
};

}  // namespace wsenergy::measure
