#pragma once
/// @file measure/process.hpp
/// @brief Running a command as a child process (posix_spawn, no shell) and telling how it ended.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"

extern char** environ;

namespace wsenergy::measure {

/// @brief How a child process ended.
struct process_result {
  bool ok = false;       ///< started and exited with status 0
  int exit_code = -1;    ///< exit status; -1 when it did not start or was killed by a signal
  int signal = 0;        ///< the signal that killed it, or 0
  std::string message;   ///< empty when ok; otherwise one line saying what went wrong
};

/// @brief Where a child's standard output and error go.
struct process_output {
  /// Append both streams to this file; empty = inherit ours.
  std::filesystem::path log_file;
  /// Run the child in a process group of its own (its id is the child's pid), so that it and
  /// everything it starts can be stopped together with `kill(-pid, signal)`.
  bool own_process_group = false;
  /// Called with the child's pid as soon as it runs. SIGINT and SIGTERM are held back in the
  /// caller from before the spawn until this returns, so a handler that forwards them always
  /// knows the child; the child starts with them unblocked and at their default action.
  std::function<void(pid_t)> on_start{};
};

/// @brief Runs `argv` (the program is looked up in PATH; no shell) and waits for it.
///
/// A program that cannot be started (not found, not executable) is reported as such, not as an
/// exception: measuring code records it as a failed run.
/// @pre `argv` is not empty
/// @throws invalid_input when the log file cannot be opened
inline process_result run_process(const std::vector<std::string>& argv,
                                  const process_output& output = {}) {
  WSENERGY_EXPECTS(!argv.empty(), "a command needs a program");
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int log_fd = -1;
  if (!output.log_file.empty()) {
    log_fd = ::open(output.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      posix_spawn_file_actions_destroy(&actions);
      throw invalid_input(fmt::format("{}: cannot open the log file: {}",
                                      output.log_file.string(), std::strerror(errno)));
    }
    posix_spawn_file_actions_adddup2(&actions, log_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  short flags = 0;
  if (output.own_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  sigset_t held;
  sigset_t previous;
  sigemptyset(&held);
  if (output.on_start) {
    sigaddset(&held, SIGINT);
    sigaddset(&held, SIGTERM);
    ::sigprocmask(SIG_BLOCK, &held, &previous);
    posix_spawnattr_setsigmask(&attr, &previous);
    posix_spawnattr_setsigdefault(&attr, &held);
    flags |= POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  }
  posix_spawnattr_setflags(&attr, flags);
  pid_t pid = 0;
  const int spawn_error = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (log_fd >= 0) ::close(log_fd);
  if (output.on_start) {
    if (spawn_error == 0) {
      try {
        output.on_start(pid);
      } catch (...) {  // stop the child rather than leave it running unwatched
        ::kill(output.own_process_group ? -pid : pid, SIGKILL);
        int ignored = 0;
        while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
        }
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        throw;
      }
    }
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  }

  process_result r;
  if (spawn_error != 0) {
    r.message = spawn_error == ENOENT
                    ? fmt::format("command not found: '{}'", argv[0])
                    : fmt::format("cannot start '{}': {}", argv[0], std::strerror(spawn_error));
    return r;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      r.message = fmt::format("cannot wait for '{}': {}", argv[0], std::strerror(errno));
      return r;
    }
  }
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
    r.ok = r.exit_code == 0;
    if (r.exit_code == 127)
      r.message = fmt::format("'{}' exited with status 127 (command not found?)", argv[0]);
    else if (!r.ok)
      r.message = fmt::format("'{}' exited with status {}", argv[0], r.exit_code);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
    r.message = fmt::format("'{}' was killed by signal {} ({})", argv[0], r.signal,
                            ::strsignal(r.signal));
  }
  return r;
}

}  // namespace wsenergy::measure
