#pragma once
/// @file measure/merge.hpp
/// @brief Runs files of one plan written by many shards: merged into one file, and the plan's
/// progress across them (`wsenergy merge`, `wsenergy status`; docs/cluster.md).

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"
#include "wsenergy/io/append.hpp"
#include "wsenergy/io/csv.hpp"
#include "wsenergy/measure/shard.hpp"
#include "wsenergy/measure/sweep.hpp"

namespace wsenergy::measure {

/// @brief How `merge_runs` settles a run recorded ok more than once with different rows.
enum class merge_preference {
  none,   ///< it is an error naming both files and lines
  ok,     ///< keep the first ok row (in the order the files are given) and drop failed attempts
  latest  ///< keep the row that started last (`started_at`), ok or failed, and only that one
};

/// @brief Parses `ok` or `latest`.
/// @throws invalid_input naming the value otherwise
inline merge_preference parse_merge_preference(std::string_view text) {
  if (text == "ok") return merge_preference::ok;
  if (text == "latest") return merge_preference::latest;
  throw invalid_input(fmt::format("merge preference '{}': expected 'ok' or 'latest'", text));
}

namespace detail {

/// One shard file read under a shared lock, its torn tail (a writer mid-row) left out.
inline io::csv_table read_shard(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw invalid_input(fmt::format("{}: is a directory, not a runs file", file.string()));
  if (!std::filesystem::exists(file, ec))
    throw invalid_input(fmt::format("{}: no such file", file.string()));
  return io::csv_table::parse(io::read_whole_rows(file), file.string());
}

/// Checks that every non-empty plan_hash of `t` is `expected` (set from the first one seen).
inline void check_plan_hash(const io::csv_table& t, std::optional<std::string>& expected,
                            std::string& expected_at) {
  const auto c = t.column("plan_hash");
  if (!c) return;
  for (std::size_t r = 0; r < t.size(); ++r) {
    const std::string& h = t.text(r, *c);
    if (h.empty()) continue;
    if (!expected) {
      expected = h;
      expected_at = fmt::format("{}:{}", t.source(), t.line(r));
    } else if (h != *expected) {
      throw t.cell_error(r, *c,
                         fmt::format("a row of another plan than {} ('{}'); the plan "
                                     "changed between shards",
                                     expected_at, *expected));
    }
  }
}

}  // namespace detail

/// @brief What `merge_runs` made.
struct merge_result {
  std::string csv;             ///< the merged file: the common header, then the rows
  std::size_t rows = 0;        ///< rows in it
  std::size_t duplicates = 0;  ///< identical rows kept once
  std::size_t dropped = 0;     ///< rows left out by a preference
};

/// @brief One runs file from many: identical rows kept once; a run recorded ok more than once
/// with different rows is an error unless `prefer` says which row to keep. Failed attempts of a
/// run are kept beside its ok row (fit ignores them) unless `prefer` drops them.
/// @throws invalid_input naming the file (and line, column and value) for a file that is missing,
/// a directory or malformed, a header that differs from the first file's, rows of different plans
/// (`plan_hash`), or a run with two different ok rows (both files and lines)
inline merge_result merge_runs(const std::vector<std::filesystem::path>& files,
                               merge_preference prefer = merge_preference::none) {
  if (files.empty()) throw invalid_input("merge: no runs files given");
  struct row_ref {
    const io::csv_table* table;
    std::size_t row;
    std::string where() const { return fmt::format("{}:{}", table->source(), table->line(row)); }
  };
  std::vector<io::csv_table> tables;
  tables.reserve(files.size());
  for (const auto& f : files) tables.push_back(detail::read_shard(f));
  const io::csv_table& first = tables.front();
  std::optional<std::string> hash;
  std::string hash_at;
  for (const io::csv_table& t : tables) {
    if (t.header() != first.header())
      throw invalid_input(
          fmt::format("{}:1: the header differs from that of {} ({} columns, {} "
                      "there); merge files of one kind only",
                      t.source(), first.source(), t.header().size(), first.header().size()));
    detail::check_plan_hash(t, hash, hash_at);
  }
  const std::size_t c_id = first.require_column("run_id");
  const std::size_t c_status = first.require_column("status");
  const auto c_started = first.column("started_at");
  std::vector<std::string> order;                      // run_ids in order of first appearance
  std::map<std::string, std::vector<row_ref>> by_run;  // distinct rows of each run
  merge_result out;
  for (const io::csv_table& t : tables)
    for (std::size_t r = 0; r < t.size(); ++r) {
      auto& rows = by_run[t.text(r, c_id)];
      if (rows.empty()) order.push_back(t.text(r, c_id));
      const bool same = std::any_of(rows.begin(), rows.end(), [&](const row_ref& k) {
        return k.table->row(k.row) == t.row(r);
      });
      if (same)
        ++out.duplicates;
      else
        rows.push_back({&t, r});
    }
  out.csv = io::csv_line(first.header());
  for (const std::string& id : order) {
    std::vector<row_ref> rows = by_run[id];
    std::vector<row_ref> oks;
    for (const row_ref& k : rows)
      if (k.table->text(k.row, c_status) == "ok") oks.push_back(k);
    const std::size_t before = rows.size();
    if (prefer == merge_preference::latest && rows.size() > 1) {
      auto started = [&](const row_ref& k) {
        return c_started ? k.table->text(k.row, *c_started) : std::string();
      };
      // The last of the latest start, so later files win a tie.
      row_ref best = rows.front();
      for (const row_ref& k : rows)
        if (started(k) >= started(best)) best = k;
      rows = {best};
    } else if (prefer == merge_preference::ok && !oks.empty()) {
      rows = {oks.front()};
    } else if (oks.size() > 1) {
      throw invalid_input(fmt::format(
          "{}: run '{}' is recorded ok with different results at {} and {}; prefer 'ok' or "
          "'latest' to keep one",
          oks[1].where(), id, oks[0].where(), oks[1].where()));
    }
    out.dropped += before - rows.size();
    for (const row_ref& k : rows) out.csv += io::csv_line(k.table->row(k.row));
    out.rows += rows.size();
  }
  return out;
}

/// @brief Progress of one group of runs of a plan (a shard, or the whole plan).
struct progress_count {
  std::string name;         ///< `1/4`, or `all`
  std::size_t planned = 0;  ///< runs of the plan in the group
  std::size_t done = 0;     ///< with an ok row
  std::size_t failed = 0;   ///< with failed rows only (retried when the sweep runs again)
  std::size_t missing = 0;  ///< with no row
};

/// @brief Where a plan stands across its runs files.
struct plan_status {
  std::string plan_hash;               ///< of the plan
  progress_count total;                ///< the whole plan
  std::vector<progress_count> shards;  ///< per shard I/N, when N > 1
  std::size_t rows = 0;                ///< rows read
  std::size_t outside_plan = 0;        ///< rows whose run_id the plan does not have
  double mean_duration_s = 0;          ///< of the ok runs (0 when none)
  double remaining_s = 0;              ///< mean duration x (failed + missing)
};

/// @brief Counts the runs of `plan` done, failed and missing in `files`, per shard of `shards`
/// (0: the N recorded in the rows' `shard` column, else 1).
/// @throws invalid_input as `merge_runs` for a bad file, and naming file, line and value for a
/// row of another plan (its `plan_hash` differs from the plan's)
inline plan_status plan_progress(const std::vector<run_config>& plan,
                                 const std::vector<std::filesystem::path>& files, int shards = 0) {
  plan_status st;
  st.plan_hash = plan_hash(plan);
  std::set<std::string> done;
  std::set<std::string> failed;
  std::set<std::string> in_plan;
  for (const run_config& c : plan) in_plan.insert(c.run.run_id);
  double duration_sum_s = 0;
  std::size_t durations = 0;
  int recorded_n = 0;
  for (const auto& f : files) {
    const io::csv_table t = detail::read_shard(f);
    std::optional<std::string> hash = st.plan_hash;
    std::string hash_at = "the plan";
    detail::check_plan_hash(t, hash, hash_at);
    const std::size_t c_id = t.require_column("run_id");
    const std::size_t c_status = t.require_column("status");
    const auto c_duration = t.column("duration_s");
    const auto c_shard = t.column("shard");
    for (std::size_t r = 0; r < t.size(); ++r) {
      ++st.rows;
      const std::string& id = t.text(r, c_id);
      if (!in_plan.count(id)) {
        ++st.outside_plan;
        continue;
      }
      if (c_shard && !t.text(r, *c_shard).empty() && recorded_n == 0)
        recorded_n = parse_shard(t.text(r, *c_shard),
                                 fmt::format("{}:{}: column 'shard'", t.source(), t.line(r)))
                         .count;
      if (t.text(r, c_status) != "ok") {
        failed.insert(id);
        continue;
      }
      if (done.insert(id).second && c_duration && !t.text(r, *c_duration).empty()) {
        duration_sum_s += t.number(r, *c_duration);
        ++durations;
      }
    }
  }
  const int n = shards > 0 ? shards : std::max(recorded_n, 1);
  st.total.name = "all";
  for (int i = 1; n > 1 && i <= n; ++i) st.shards.push_back({fmt::format("{}/{}", i, n)});
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const std::string& id = plan[i].run.run_id;
    auto count = [&](progress_count& p) {
      ++p.planned;
      if (done.count(id))
        ++p.done;
      else if (failed.count(id))
        ++p.failed;
      else
        ++p.missing;
    };
    count(st.total);
    if (n > 1) count(st.shards[i % static_cast<std::size_t>(n)]);
  }
  if (durations > 0) st.mean_duration_s = duration_sum_s / static_cast<double>(durations);
  st.remaining_s = st.mean_duration_s * static_cast<double>(st.total.failed + st.total.missing);
  return st;
}

}  // namespace wsenergy::measure
