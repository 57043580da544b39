#pragma once
/// @file io/csv.hpp
/// @brief Strict CSV reading with file/line/column errors, and safe writing: whole files through a
/// temporary file and a rename, single rows appended and flushed to disk so a killed writer never
/// leaves a torn row. Standard library and fmt only.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"
#include "wsenergy/io/files.hpp"

namespace wsenergy::io {

/// @brief One parsed CSV table with positions kept for error messages.
class csv_table {
 public:
  /// @brief Parses CSV text (RFC 4180 quoting; CRLF or LF; a header row is required).
  /// @param source the file name used in error messages
  /// @throws invalid_input for an empty file, an unterminated quote, or a row with the wrong
  /// number of fields
  static csv_table parse(std::string_view text, std::string source) {
    csv_table t;
    t.source_ = std::move(source);
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false;
    bool field_was_quoted = false;
    std::size_t line = 1;
    std::size_t row_line = 1;
    auto end_row = [&] {
      fields.push_back(std::move(field));
      field.clear();
      field_was_quoted = false;
      const bool blank = fields.size() == 1 && fields[0].empty();
      if (!blank) {
        if (t.header_.empty()) {
          t.header_ = std::move(fields);
          t.header_line_ = row_line;
        } else {
          if (fields.size() != t.header_.size())
            throw invalid_input(fmt::format("{}:{}: expected {} fields as in the header, found {}",
                                            t.source_, row_line, t.header_.size(), fields.size()));
          t.rows_.push_back(std::move(fields));
          t.lines_.push_back(row_line);
        }
      }
      fields.clear();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (quoted) {
        if (c == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            ++i;
          } else {
            quoted = false;
          }
        } else {
          if (c == '\n') ++line;
          field += c;
        }
        continue;
      }
      switch (c) {
        case '"':
          if (!field.empty() || field_was_quoted)
            throw invalid_input(fmt::format("{}:{}: column {}: a quote inside an unquoted field",
                                            t.source_, line, fields.size() + 1));
          quoted = true;
          field_was_quoted = true;
          break;
        case ',':
          fields.push_back(std::move(field));
          field.clear();
          field_was_quoted = false;
          break;
        case '\r':
          if (i + 1 < text.size() && text[i + 1] != '\n')
            throw invalid_input(fmt::format(
                "{}:{}: a carriage return (CR) without a line feed: CR-only line endings are not "
                "read; convert the file to LF or CRLF line endings",
                t.source_, line));
          break;
        case '\n':
          end_row();
          ++line;
          row_line = line;
          break;
        default:
          field += c;
      }
    }
    if (quoted)
      throw invalid_input(fmt::format("{}:{}: unterminated quoted field", t.source_, row_line));
    if (!field.empty() || !fields.empty()) end_row();
    if (t.header_.empty()) throw invalid_input(fmt::format("{}: the file is empty", t.source_));
    for (std::size_t c = 0; c < t.header_.size(); ++c)
      if (!t.columns_.emplace(t.header_[c], c).second)
        throw invalid_input(fmt::format("{}:{}: column '{}' appears twice in the header (columns {} "
                                        "and {})",
                                        t.source_, t.header_line_, t.header_[c],
                                        t.columns_[t.header_[c]] + 1, c + 1));
    return t;
  }

  /// @brief Reads and parses a file.
  /// @throws invalid_input when the file cannot be read or does not parse
  /// Only regular files are read, and at most `max_input_bytes` (io/files.hpp).
  static csv_table read(const std::filesystem::path& file) {
    return parse(read_text_file(file), file.string());
  }

  const std::string& source() const noexcept { return source_; }
  const std::vector<std::string>& header() const noexcept { return header_; }
  std::size_t size() const noexcept { return rows_.size(); }
  /// The 1-based line a row starts on.
  std::size_t line(std::size_t row) const { return lines_.at(row); }
  const std::vector<std::string>& row(std::size_t r) const { return rows_.at(r); }

  bool has_column(std::string_view name) const { return columns_.count(std::string(name)) > 0; }
  /// Index of a column, or nothing.
  std::optional<std::size_t> column(std::string_view name) const {
    auto it = columns_.find(std::string(name));
    if (it == columns_.end()) return std::nullopt;
    return it->second;
  }
  /// @throws invalid_input naming the file and the missing column
  std::size_t require_column(std::string_view name) const {
    if (auto c = column(name)) return *c;
    throw invalid_input(fmt::format("{}:{}: the header has no column '{}'", source_, header_line_,
                                    name));
  }

  /// @brief The text of a cell.
  const std::string& text(std::size_t r, std::size_t c) const { return rows_.at(r).at(c); }

  /// @brief An error about one cell: `file:line: column 'name': message (value 'text')`.
  invalid_input cell_error(std::size_t r, std::size_t c, std::string_view message) const {
    return invalid_input(fmt::format("{}:{}: column '{}': {} (value '{}')", source_, line(r),
                                     header_.at(c), message, text(r, c)));
  }

  /// @brief A cell as a finite number.
  /// @throws invalid_input naming file, line, column and value when it is not one
  double number(std::size_t r, std::size_t c) const {
    const std::string& s = text(r, c);
    double v = 0;
    const char* first = s.data();
    const char* last = s.data() + s.size();
    while (first < last && *first == ' ') ++first;
    auto [end, ec] = std::from_chars(first, last, v);
    if (ec != std::errc{} || end != last || first == last || !std::isfinite(v))
      throw cell_error(r, c, "expected a number");
    return v;
  }

  /// @brief A cell as an integer; accepts `15000.0` (as the BUTTER-E file writes counts).
  /// @throws invalid_input when it is not a whole number
  std::int64_t integer(std::size_t r, std::size_t c) const {
    const double v = number(r, c);
    if (v != std::floor(v) || std::fabs(v) > 9.0e15) throw cell_error(r, c, "expected an integer");
    return static_cast<std::int64_t>(v);
  }

 private:
  std::string source_;
  std::vector<std::string> header_;
  std::size_t header_line_ = 1;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::size_t> lines_;
  std::map<std::string, std::size_t, std::less<>> columns_;
};

/// @brief A field quoted as CSV needs it (commas, quotes, newlines).
inline std::string csv_escape(std::string_view field) {
  if (field.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

/// @brief One CSV line (with its newline) from fields.
inline std::string csv_line(const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) line += ',';
    line += csv_escape(fields[i]);
  }
  line += '\n';
  return line;
}

/// @brief The length of the whole rows at the start of CSV text: up to and including the last
/// line feed outside quotes. What follows is a torn row (a writer killed mid-row), even when it
/// holds line feeds inside an unterminated quoted field.
inline std::size_t complete_rows_length(std::string_view text) noexcept {
  bool quoted = false;
  std::size_t end = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"')
      quoted = !quoted;  // a doubled quote inside a field toggles twice
    else if (text[i] == '\n' && !quoted)
      end = i + 1;
  }
  return end;
}

/// @brief Appends one complete line to a CSV file with a single `write` and flushes it to disk.
///
/// Creates the file with `header` first when it does not exist or is empty. A file whose last
/// line lacks its newline (a writer killed mid-row by something outside our control) has that
/// torn tail cut off first, so the file only ever holds whole rows.
/// @throws invalid_input when the file cannot be written or its header differs from `header`
inline void append_csv_row(const std::filesystem::path& path, const std::vector<std::string>& header,
                           const std::vector<std::string>& fields) {
  const std::string header_line = csv_line(header);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    throw invalid_input(fmt::format("{}: cannot open for appending: {}", path.string(),
                                    std::strerror(errno)));
  auto fail = [&](const std::string& what) {
    const int e = errno;
    ::close(fd);
    throw invalid_input(fmt::format("{}: {}: {}", path.string(), what, std::strerror(e)));
  };
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) fail("cannot seek");
  std::string out;
  if (size == 0) {
    out = header_line;
  } else {
    // Check the header and cut a torn last line.
    std::string existing(static_cast<std::size_t>(size), '\0');
    if (::pread(fd, existing.data(), existing.size(), 0) != size) fail("cannot read");
    if (existing.compare(0, header_line.size(), header_line) != 0) {
      ::close(fd);
      throw invalid_input(fmt::format(
          "{}:1: the header differs from the one this command writes ({})", path.string(),
          header_line.substr(0, header_line.size() - 1)));
    }
    if (const auto keep = complete_rows_length(existing); keep != existing.size()) {
      if (::ftruncate(fd, static_cast<off_t>(keep)) != 0) fail("cannot cut a torn last row");
      ::lseek(fd, 0, SEEK_END);
    }
  }
  out += csv_line(fields);
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::write(fd, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot append");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail("cannot flush");
  ::close(fd);
}

}  // namespace wsenergy::io
