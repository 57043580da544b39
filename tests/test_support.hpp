#pragma once
// Helpers shared by the tests: reading the small CSV files of tests/golden and data/.

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace wsenergy::test {

/// Rows of a simple CSV file (no quoted commas) as maps from column name to text.
inline std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  {
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) header.push_back(cell);
  }
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string cell;
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size() && std::getline(ss, cell, ','); ++i)
      row[header[i]] = cell;
    rows.push_back(std::move(row));
  }
  return rows;
}

/// "13 13 1" as numbers.
inline std::vector<std::int64_t> parse_widths(const std::string& text) {
  std::vector<std::int64_t> widths;
  std::stringstream ss(text);
  std::int64_t w = 0;
  while (ss >> w) widths.push_back(w);
  return widths;
}

}  // namespace wsenergy::test
