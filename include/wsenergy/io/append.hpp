#pragma once
/// @file io/append.hpp
/// @brief Runs files that several writers share: every append takes an exclusive `flock` on the
/// file, writes whole rows with `O_APPEND` in one `write` and fsyncs them; readers take a shared
/// lock, so they never see half a row (docs/cluster.md, "Safe runs files").
///
/// Two sweeps, or a sweep and a `measure`, appending to one file interleave whole rows. A torn
/// tail (a writer killed by something outside our control mid-row, or a file copied while it was
/// written) is cut by the next writer, under the lock. Standard library, POSIX and fmt only.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"
#include "wsenergy/io/csv.hpp"

namespace wsenergy::io {

/// @brief An open file held under a `flock` (exclusive for writers, shared for readers) until
/// this object is destroyed.
class locked_file {
 public:
  /// @brief How a file is opened and locked.
  enum class mode {
    read,   ///< must exist; shared lock
    append  ///< created (0644) when missing; exclusive lock; writes go to the end (`O_APPEND`)
  };

  /// @brief Opens `path` and waits for the lock.
  /// @throws invalid_input naming the file when it is a directory, cannot be opened or locked
  locked_file(const std::filesystem::path& path, mode m) : path_(path) {
    const int flags =
        m == mode::append ? O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC : O_RDONLY | O_CLOEXEC;
    fd_ = ::open(path.c_str(), flags, 0644);
    if (fd_ < 0) throw error(m == mode::append ? "cannot open for appending" : "cannot open");
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd_);
      fd_ = -1;
      throw invalid_input(fmt::format("{}: is a directory, not a runs file", path_.string()));
    }
    const int op = m == mode::append ? LOCK_EX : LOCK_SH;
    while (::flock(fd_, op) != 0) {
      if (errno == EINTR) continue;
      const invalid_input e = error("cannot lock");
      ::close(fd_);
      fd_ = -1;
      throw e;
    }
  }
  locked_file(const locked_file&) = delete;
  locked_file& operator=(const locked_file&) = delete;
  ~locked_file() {
    if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
  }

  /// @brief The whole file as it is now.
  /// @throws invalid_input when it cannot be read
  std::string contents() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw error("cannot read");
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n =
          ::pread(fd_, text.data() + done, text.size() - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw error("cannot read");
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    text.resize(done);
    return text;
  }

  /// @brief Cuts a last line that lacks its newline (append mode only); `text` is the contents.
  /// @throws invalid_input when the file cannot be truncated
  void cut_torn_tail(const std::string& text) {
    // Whole rows end at a line feed outside quotes: a row torn inside a quoted field is torn
    // too, even when it holds line feeds.
    const std::size_t keep = complete_rows_length(text);
    if (keep == text.size()) return;
    if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0) throw error("cannot cut a torn last row");
  }

  /// @brief Appends `text` with one `write` where the system allows it, then fsyncs the file.
  /// @throws invalid_input when the write or the flush fails
  void append(std::string_view text) {
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw error("cannot append");
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd_) != 0) throw error("cannot flush");
  }

 private:
  invalid_input error(std::string_view what) const {
    return invalid_input(fmt::format("{}: {}: {}", path_.string(), what, std::strerror(errno)));
  }

  std::filesystem::path path_;
  int fd_ = -1;
};

/// @brief The complete rows of a runs file read under a shared lock: a torn last line is left
/// out. Empty when the file does not exist.
/// @throws invalid_input when it exists but cannot be read, or is a directory
inline std::string read_whole_rows(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return {};
  std::string text = locked_file(path, locked_file::mode::read).contents();
  text.resize(complete_rows_length(text));
  return text;
}

/// @brief Appends whole CSV rows to a file shared with other writers.
///
/// Under an exclusive `flock`: a missing or empty file gets `header` first; a file whose header
/// differs is an error and is left alone; a torn last line is cut; then every row is written in
/// one `O_APPEND` write and fsynced. Concurrent writers interleave whole rows.
/// @throws invalid_input when the file cannot be written or its header differs from `header`
inline void append_csv_rows(const std::filesystem::path& path,
                            const std::vector<std::string>& header,
                            const std::vector<std::vector<std::string>>& rows) {
  const std::string header_line = csv_line(header);
  locked_file f(path, locked_file::mode::append);
  const std::string existing = f.contents();
  std::string out;
  if (existing.empty()) {
    out = header_line;
  } else if (existing.compare(0, header_line.size(), header_line) != 0) {
    throw invalid_input(
        fmt::format("{}:1: the header differs from the one this command writes ({})", path.string(),
                    header_line.substr(0, header_line.size() - 1)));
  } else {
    f.cut_torn_tail(existing);
  }
  for (const auto& fields : rows) out += csv_line(fields);
  f.append(out);
}

/// @brief Appends one whole CSV row to a shared file (see `append_csv_rows`).
/// @throws invalid_input when the file cannot be written or its header differs from `header`
inline void append_csv_row_locked(const std::filesystem::path& path,
                                  const std::vector<std::string>& header,
                                  const std::vector<std::string>& fields) {
  append_csv_rows(path, header, {fields});
}

}  // namespace wsenergy::io
