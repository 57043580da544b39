#pragma once
/// @file io/files.hpp
/// @brief Reading and writing files safely (docs/security.md): input must be a regular file (or
/// standard input where a command allows `-`) and is read up to a bound; output goes through a
/// temporary file made with `mkstemp` beside the target and renamed over it, is never written
/// through a symbolic link planted at a temporary name, never replaces a device node, a folder or
/// a FIFO, and goes straight to character devices and pipes. Standard library, fmt and POSIX.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "wsenergy/error.hpp"

namespace wsenergy::io {

/// @brief The largest input file read (1 GiB): far above any real runs, plan, hierarchy or model
/// file, far below what would exhaust memory.
inline constexpr std::uint64_t max_input_bytes = std::uint64_t{1} << 30;

namespace detail {

inline std::string errno_text(int e) { return std::strerror(e); }

/// What a file type is called in an error.
inline std::string_view file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

/// Reads all of `fd` up to `limit` bytes; `name` is used in errors.
inline std::string read_all(int fd, const std::string& name, std::uint64_t limit) {
  std::string text;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw invalid_input(fmt::format("{}: cannot read: {}", name, errno_text(errno)));
    }
    if (n == 0) break;
    if (text.size() + static_cast<std::size_t>(n) > limit)
      throw invalid_input(fmt::format("{}: larger than the limit of {} bytes ({} GiB) on input files",
                                      name, limit, static_cast<double>(limit) / (1 << 30)));
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace detail

/// @brief The whole text of a regular file, at most `limit` bytes.
///
/// Opens without blocking (a FIFO never hangs the reader) and refuses folders, FIFOs, devices
/// and sockets by name, so `/dev/zero` or a pipe is an error, not a hang or an exhausted memory.
/// @param what the kind of file for the error (`runs file`, `plan`), may be empty
/// @throws invalid_input naming the file when it cannot be opened, is not a regular file, or is
/// larger than `limit`
inline std::string read_text_file(const std::filesystem::path& file,
                                  std::uint64_t limit = max_input_bytes) {
  const std::string name = file.string();
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw invalid_input(fmt::format("{}: cannot open the file: {}", name,
                                              detail::errno_text(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const mode_t mode = st.st_mode;
    ::close(fd);
    throw invalid_input(
        fmt::format("{}: is {}; give a regular file", name, detail::file_kind(mode)));
  }
  if (static_cast<std::uint64_t>(st.st_size) > limit) {
    ::close(fd);
    throw invalid_input(fmt::format("{}: larger than the limit of {} bytes ({} GiB) on input files",
                                    name, limit, static_cast<double>(limit) / (1 << 30)));
  }
  try {
    std::string text = detail::read_all(fd, name, limit);
    ::close(fd);
    return text;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

/// @brief Standard input (`-`) read up to `limit` bytes, or a regular file as `read_text_file`.
inline std::string read_text_file_or_stdin(const std::filesystem::path& file,
                                           std::uint64_t limit = max_input_bytes) {
  if (file == "-") return detail::read_all(STDIN_FILENO, "standard input", limit);
  return read_text_file(file, limit);
}

/// @brief How `write_file_atomically` will treat its target.
enum class output_kind : std::uint8_t {
  replace,  ///< a regular file or nothing yet: written to a temporary file, then renamed
  stream    ///< a character device (`/dev/null`, a terminal) or a pipe: written directly
};

/// @brief Checks that a file can be written before any work is done: its folder exists and is a
/// writable folder, and the path is a regular file (then writable), a character device, a pipe, or
/// nothing yet. Symbolic links are followed (the target is what counts).
/// @throws invalid_input naming the path and what is wrong with it
inline output_kind check_output_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  if (name.empty()) throw invalid_input("output file: empty name");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return output_kind::stream;
    if (!S_ISREG(st.st_mode))
      throw invalid_input(fmt::format("{}: is {}; refusing to replace it", name,
                                      detail::file_kind(st.st_mode)));
  } else if (errno != ENOENT) {
    throw invalid_input(fmt::format("{}: cannot write: {}", name, detail::errno_text(errno)));
  }
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  struct stat ds {};
  if (::stat(dir.c_str(), &ds) != 0)
    throw invalid_input(fmt::format("{}: cannot write: the folder '{}' does not exist", name,
                                    dir.string()));
  if (!S_ISDIR(ds.st_mode))
    throw invalid_input(
        fmt::format("{}: cannot write: '{}' is not a folder", name, dir.string()));
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw invalid_input(fmt::format("{}: cannot write in the folder '{}': {}", name, dir.string(),
                                    detail::errno_text(errno)));
  if (::access(path.c_str(), F_OK) == 0 && ::access(path.c_str(), W_OK) != 0)
    throw invalid_input(fmt::format("{}: cannot write: {}", name, detail::errno_text(errno)));
  return output_kind::replace;
}

namespace detail {

/// Writes all of `contents` to `fd`; returns 0 or the errno of the failure.
inline int write_all(int fd, std::string_view contents) {
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace detail

/// @brief Writes a whole file so that nothing is ever half-written.
///
/// A regular file (or a new one) is written to a fresh temporary file made by `mkstemp` in the
/// same folder (`.NAME.XXXXXX`: created exclusively, so a planted link is never followed), flushed
/// to disk, then renamed over the target. A character device or a pipe (`/dev/stdout`,
/// `/dev/null`) is written directly. Folders, FIFOs opened by name and block devices are refused.
/// @throws invalid_input naming the file when it cannot be written; the temporary file is removed
inline void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  const std::string name = path.string();
  if (check_output_file(path) == output_kind::stream) {
    // Without blocking: a FIFO nobody reads is an error (ENXIO), not a hang.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
      throw invalid_input(fmt::format("{}: cannot write: {}", name, detail::errno_text(errno)));
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    const int e = detail::write_all(fd, contents);
    if (::close(fd) != 0 && e == 0)
      throw invalid_input(fmt::format("{}: cannot write: {}", name, detail::errno_text(errno)));
    if (e != 0) throw invalid_input(fmt::format("{}: cannot write: {}", name, detail::errno_text(e)));
    return;
  }
  std::filesystem::path dir = path.parent_path();
  std::string pattern =
      (dir.empty() ? std::filesystem::path(".") : dir) / ("." + path.filename().string() + ".XXXXXX");
  const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0)
    throw invalid_input(fmt::format("{}: cannot create a temporary file beside it: {}", name,
                                    detail::errno_text(errno)));
  const std::filesystem::path tmp = pattern;
  auto fail = [&](int e) {
    ::unlink(tmp.c_str());
    throw invalid_input(fmt::format("{}: cannot write: {}", name, detail::errno_text(e)));
  };
  if (const int e = detail::write_all(fd, contents); e != 0) {
    ::close(fd);
    fail(e);
  }
  // The mode of the file it replaces, else 0644 less the umask (what open(..., 0644) gives).
  struct stat old {};
  mode_t mode = 0644;
  if (::stat(path.c_str(), &old) == 0) {
    mode = old.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode &= ~mask;
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    fail(e);
  }
  if (::close(fd) != 0) fail(errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail(errno);
}

/// @brief Flushes standard output and checks that everything written to it arrived.
/// @throws invalid_input saying why when a write failed (a full disk, a closed pipe, /dev/full)
inline void flush_standard_output() {
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    const int e = errno;
    std::clearerr(stdout);
    throw invalid_input(fmt::format("standard output: cannot write: {}",
                                    detail::errno_text(e != 0 ? e : EIO)));
  }
}

}  // namespace wsenergy::io
