#pragma once
/// @file plot.hpp
/// @brief Figures of the advisor and of a fit, rendered by gnuplot: each writes a data file and a
/// gnuplot script beside it (so users can restyle and re-render them), then runs gnuplot to make
/// an SVG and a PNG. Where gnuplot is missing, the data and the script are still written and the
/// result says how to render them. Standard library, fmt and POSIX only.
///
/// The gnuplot program is `plot_settings::gnuplot`, else the environment variable
/// `WSENERGY_GNUPLOT`, else `gnuplot` on the PATH.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/advisor.hpp"
#include "wsenergy/energy_model.hpp"
#include "wsenergy/error.hpp"
#include "wsenergy/hierarchy.hpp"
#include "wsenergy/io/csv.hpp"
#include "wsenergy/terms.hpp"

namespace wsenergy::plot {

/// @brief Where and how figures are written.
struct plot_settings {
  std::filesystem::path directory = ".";  ///< created when missing
  std::string gnuplot;                    ///< program; empty: $WSENERGY_GNUPLOT, else `gnuplot`
  int svg_width_px = 960;                 ///< SVG size
  int svg_height_px = 600;
  int png_width_px = 1280;  ///< PNG size
  int png_height_px = 800;
};

/// @brief The files of one figure and whether the images were rendered.
struct plot_output {
  std::filesystem::path data_file;            ///< the numbers plotted
  std::filesystem::path script_file;          ///< the gnuplot script that draws them
  std::vector<std::filesystem::path> images;  ///< SVG and PNG, when rendered
  bool rendered = false;
  bool gnuplot_failed = false;  ///< gnuplot was found but failed (not: gnuplot is missing)
  std::string message;  ///< why not rendered and how to render, or empty
};

/// @brief One run for the predicted-against-measured scatter.
struct prediction_pair {
  double predicted_j = 0;  ///< model prediction, joules per run
  double measured_j = 0;   ///< measurement, joules per run (> 0)
  std::string group;       ///< series the point belongs to (hardware, shape, ...), may be empty
};

/// @brief Measured energies drawn as points over the predicted curves of `energy_curves`.
struct measured_series {
  std::size_t sweep = 0;  ///< index of the curve (sweep) they belong to; sets the colour
  std::string label;      ///< key entry
  std::vector<std::pair<double, double>> points;  ///< (parameters, joules per training example)
};

namespace detail {

/// A gnuplot single-quoted string literal (no escapes inside; a quote is doubled).
inline std::string quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    if (c == '\n' || c == '\r') {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out + "'";
}

/// Colour-blind-safe colours (Okabe and Ito), then a few more.
inline constexpr std::array<std::string_view, 15> palette = {
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
    "#7F7F7F", "#8C564B", "#9467BD", "#17BECF", "#BCBD22", "#E377C2", "#393B79"};

/// Two lines as one gnuplot string expression: `'first'."\n".'second'`. Each line is single-quoted
/// (gnuplot runs backticks inside double quotes, never inside single quotes); only the constant
/// "\n" between them is double-quoted.
inline std::string quote_lines(std::string_view first, std::string_view second) {
  return quote(first) + ".\"\\n\"." + quote(second);
}

/// The data file of a figure as a gnuplot string: `'STEM.dat'`.
inline std::string data_name(std::string_view stem) { return quote(fmt::format("{}.dat", stem)); }

/// Checks that a figure name is a plain file name: letters, digits and `._+-`, not starting with
/// `.` or `-`, at most 200 characters (so it names a file in the plot folder and nothing else).
inline void check_stem(std::string_view stem) {
  auto plain = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '+' || c == '-';
  };
  if (stem.empty() || stem.size() > 200 || stem.front() == '.' || stem.front() == '-' ||
      !std::all_of(stem.begin(), stem.end(), plain))
    throw invalid_input(fmt::format(
        "plot: figure name '{}': must be a plain file name (letters, digits and ._+-, not "
        "starting with '.' or '-', at most 200 characters)",
        stem));
}

inline std::string_view colour(std::size_t i) { return palette[i % palette.size()]; }

/// "2^{10}" for a power of two, else the number.
inline std::string size_label(std::int64_t n) {
  if (n > 0 && (n & (n - 1)) == 0)
    return fmt::format("2^{{{}}}", std::countr_zero(static_cast<std::uint64_t>(n)));
  return fmt::format("{}", n);
}

inline std::string terminals(const plot_settings& s) {
  return fmt::format(
      "set terminal svg size {},{} dynamic enhanced font 'Sans,12' background rgb 'white'\n"
      "set output stem.'.svg'\n"
      "{{PLOT}}"
      "set terminal pngcairo size {},{} enhanced font 'Sans,12' background rgb 'white'\n"
      "set output stem.'.png'\n"
      "replot\n"
      "unset output\n",
      s.svg_width_px, s.svg_height_px, s.png_width_px, s.png_height_px);
}

/// The script: a header, the settings, then the plot command drawn on SVG and PNG.
inline std::string script(std::string_view stem, std::string_view what, std::string_view data,
                          std::string_view settings, std::string_view plot_command,
                          const plot_settings& s) {
  std::string out = fmt::format(
      "# {}\n"
      "# Written by wsenergy. Data: {}. Restyle freely, then render with:\n"
      "#   gnuplot {}.gp      (writes {}.svg and {}.png here)\n"
      "if (!exists('stem')) stem = {}\n"
      "set encoding utf8\n",
      what, data, stem, stem, stem, quote(stem));
  out += settings;
  std::string t = terminals(s);
  t.replace(t.find("{PLOT}"), 6, plot_command);
  return out + t;
}

/// The program to run, or nothing when it cannot be found.
inline std::optional<std::filesystem::path> find_program(const std::string& program) {
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos) {
    if (::access(program.c_str(), X_OK) == 0 && !std::filesystem::is_directory(program))
      return std::filesystem::path(program);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (true) {
    const std::size_t colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    const std::filesystem::path candidate =
        std::filesystem::path(dir.empty() ? "." : std::string(dir)) / program;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate))
      return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

inline std::string gnuplot_program(const plot_settings& s) {
  if (!s.gnuplot.empty()) return s.gnuplot;
  if (const char* env = std::getenv("WSENERGY_GNUPLOT"); env != nullptr && *env != '\0') return env;
  return "gnuplot";
}

/// Runs `program -e "stem='TMP'" script` in `dir`; returns (exit status, standard error).
inline std::pair<int, std::string> run_gnuplot(const std::filesystem::path& program,
                                               const std::filesystem::path& dir,
                                               const std::string& stem_value,
                                               const std::string& script_name) {
  const std::string exe = program.string();
  const std::string define = fmt::format("stem={}", quote(stem_value));
  const std::string dir_text = dir.string();
  std::array<const char*, 5> argv = {exe.c_str(), "-e", define.c_str(), script_name.c_str(),
                                     nullptr};
  int err_pipe[2];
  if (::pipe(err_pipe) != 0) return {-1, "cannot create a pipe"};
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(err_pipe[0]);
    ::close(err_pipe[1]);
    return {-1, "cannot start a process"};
  }
  if (pid == 0) {
    ::close(err_pipe[0]);
    ::dup2(err_pipe[1], STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDIN_FILENO);
      ::dup2(null_fd, STDOUT_FILENO);
    }
    if (::chdir(dir_text.c_str()) != 0) ::_exit(126);
    ::execv(argv[0], const_cast<char* const*>(argv.data()));
    ::_exit(127);
  }
  ::close(err_pipe[1]);
  std::string err;
  std::array<char, 4096> buffer{};
  ssize_t n = 0;
  while ((n = ::read(err_pipe[0], buffer.data(), buffer.size())) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) err.append(buffer.data(), static_cast<std::size_t>(n));
  ::close(err_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, err};
}

/// Writes the data and the script atomically, then renders the images (also atomically: gnuplot
/// draws to temporary names that are renamed when it succeeds).
inline plot_output write_and_render(const plot_settings& s, std::string_view stem,
                                    std::string_view data_text, std::string_view script_text) {
  check_stem(stem);
  std::error_code ec;
  std::filesystem::create_directories(s.directory, ec);
  if (ec)
    throw invalid_input(fmt::format("plot directory '{}': cannot be created ({})",
                                    s.directory.string(), ec.message()));
  plot_output out;
  out.data_file = s.directory / fmt::format("{}.dat", stem);
  out.script_file = s.directory / fmt::format("{}.gp", stem);
  io::write_file_atomically(out.data_file, data_text);
  io::write_file_atomically(out.script_file, script_text);
  const std::string how =
      fmt::format("render them with: cd {} && gnuplot {}.gp", s.directory.string(), stem);
  const std::string program = gnuplot_program(s);
  const auto found = find_program(program);
  if (!found) {
    out.message = fmt::format(
        "gnuplot not found (looked for '{}'); the data ({}) and the script ({}) are written: "
        "install gnuplot (Debian: gnuplot-nox) and {}",
        program, out.data_file.string(), out.script_file.string(), how);
    return out;
  }
  const std::string tmp_stem = fmt::format("{}.tmp{}", stem, ::getpid());
  const auto [status, err] = run_gnuplot(std::filesystem::absolute(*found), s.directory, tmp_stem,
                                         out.script_file.filename().string());
  const std::array<std::string_view, 2> extensions = {"svg", "png"};
  bool complete = status == 0;
  for (auto ext : extensions)
    complete =
        complete && std::filesystem::exists(s.directory / fmt::format("{}.{}", tmp_stem, ext));
  if (!complete) {
    for (auto ext : extensions)
      std::filesystem::remove(s.directory / fmt::format("{}.{}", tmp_stem, ext), ec);
    std::string first_lines = err.substr(0, 600);
    std::replace(first_lines.begin(), first_lines.end(), '\n', ' ');
    out.gnuplot_failed = true;
    out.message = fmt::format(
        "gnuplot ({}) failed with status {}: {}; the data and the script are "
        "written: fix the script and {}",
        found->string(), status, first_lines, how);
    return out;
  }
  for (auto ext : extensions) {
    const auto final_path = s.directory / fmt::format("{}.{}", stem, ext);
    std::filesystem::rename(s.directory / fmt::format("{}.{}", tmp_stem, ext), final_path);
    out.images.push_back(final_path);
  }
  out.rendered = true;
  return out;
}

}  // namespace detail

/// @brief Predicted energy per training example against parameter count, one curve per sweep,
/// with the cache edges of the hardware (where the fp32 parameters alone fill a level) drawn as
/// vertical lines. Writes `STEM.dat`, `STEM.gp` and, with gnuplot, `STEM.svg` and `STEM.png`.
/// @param title figure title (hardware and model, say)
/// @throws invalid_input when no sweep has a prediction, or a file cannot be written
/// @param measured optional measurements to draw as points (one series per curve, say)
inline plot_output energy_curves(std::span<const sweep_result> sweeps, const hierarchy& hardware,
                                 std::string_view title, const plot_settings& settings,
                                 std::string_view stem = "energy_per_example",
                                 std::span<const measured_series> measured = {}) {
  std::string data =
      "# predicted energy per training example; one block per curve (gnuplot index 0, 1, ...)\n"
      "# target_parameters parameters energy_per_example_j energy_per_run_j forward_level\n";
  std::string plots;
  double lo = 0;
  double hi = 0;
  std::size_t block = 0;
  for (std::size_t s = 0; s < sweeps.size(); ++s) {
    std::string rows;
    for (const candidate_evaluation& e : sweeps[s].evaluations) {
      if (!e.ok()) continue;
      const auto p = static_cast<double>(e.parameters);
      lo = lo == 0 ? p : std::min(lo, p);
      hi = std::max(hi, p);
      rows += fmt::format("{} {} {:.9g} {:.9g} {}\n", e.target_parameters, e.parameters,
                          e.energy_per_example_j, e.energy.total_j,
                          hardware.level_name(e.level(set_kind::forward)));
    }
    if (rows.empty()) continue;
    data += fmt::format("{}# {}\n{}", block == 0 ? "" : "\n\n", sweeps[s].label(), rows);
    plots += fmt::format(
        "{}{} index {} using 2:3 with linespoints lw 2 pt 7 ps 0.5 "
        "lc rgb '{}' title {} noenhanced",
        block == 0 ? "plot " : ", \\\n     ", detail::data_name(stem), block, detail::colour(s),
        detail::quote(sweeps[s].label()));
    ++block;
  }
  if (block == 0) throw invalid_input("plot: no size of the sweep has a prediction to plot");
  for (const measured_series& m : measured) {
    if (m.points.empty()) continue;
    data += fmt::format("\n\n# {}\n", m.label);
    for (const auto& [p, e] : m.points) {
      if (!(p > 0) || !(e > 0) || !std::isfinite(p) || !std::isfinite(e))
        throw invalid_input(
            fmt::format("plot: measured series '{}': point ({}, {}) must be "
                        "positive and finite",
                        m.label, p, e));
      data += fmt::format("{:.9g} {:.9g} {:.9g} - -\n", p, p, e);
      lo = std::min(lo, p);
      hi = std::max(hi, p);
    }
    // Hollow circles in the colour of the curve they belong to.
    plots += fmt::format(
        ", \\\n     {} index {} using 2:3 with points pt 6 ps 1.5 lw 2 lc rgb '{}' "
        "title {} noenhanced",
        detail::data_name(stem), block, detail::colour(m.sweep), detail::quote(m.label));
    ++block;
  }
  plots += "\n";
  const double x_lo = lo / 1.5;
  const double x_hi = hi * 1.5;
  std::string settings_text = fmt::format(
      "set title {} noenhanced\n"
      "set xlabel 'parameters (log scale)'\n"
      "set ylabel '{}'\n"
      "set logscale x 2\n"
      "set logscale y 10\n"
      "set format x '2^{{%L}}'\n"
      "set format y '%g'\n"
      "set xrange [{:.6g}:{:.6g}]\n"
      "set mytics 10\n"
      "set grid xtics ytics mytics lc rgb '#e4e4e4', lc rgb '#f2f2f2'\n"
      "set key top left box opaque samplen 2\n"
      "# Cache edges: where the fp32 parameters alone fill the levels up to and including this "
      "one\n"
      "# (cumulative per-unit capacity / 4 bytes).\n",
      detail::quote(title),
      measured.empty() ? "predicted energy per training example (J, log scale)"
                       : "energy per training example (J, log scale)",
      x_lo, x_hi);
  int arrow = 1;
  for (const cache_edge& edge : cache_edges(hardware)) {
    if (edge.parameters < x_lo || edge.parameters > x_hi) continue;
    settings_text += fmt::format(
        "set arrow {} from {:.6g}, graph 0 to {:.6g}, graph 1 nohead dt 2 lw 1.5 lc rgb '#B03030' "
        "back\n"
        "set label {} {} at {:.6g}, graph 1 center offset 0,0.7 tc rgb '#B03030' noenhanced\n",
        arrow, edge.parameters, edge.parameters, arrow, detail::quote(edge.name), edge.parameters);
    ++arrow;
  }
  if (arrow > 1) {
    settings_text += "set title offset 0,1\n";
    plots.insert(plots.size() - 1,
                 ", \\\n     NaN with lines dt 2 lw 1.5 lc rgb '#B03030' "
                 "title 'cache edge (fp32 parameters fill the levels up to it)'");
  }
  const std::string script = detail::script(
      stem, "Predicted energy per training example against parameter count, with cache edges",
      fmt::format("{}.dat", stem), settings_text, plots, settings);
  return detail::write_and_render(settings, stem, data, script);
}

/// @brief Predicted against measured energy per run on log axes, with `predicted = measured` and
/// the band of ±10 %, one colour per group; the title carries the mean absolute percentage error
/// and the share of runs within ±10 %.
/// @throws invalid_input for no pairs or a value that is not positive and finite (naming the
/// pair), or a file that cannot be written
inline plot_output prediction_scatter(std::span<const prediction_pair> pairs,
                                      std::string_view title, const plot_settings& settings,
                                      std::string_view stem = "predicted_vs_measured") {
  if (pairs.empty()) throw invalid_input("plot: no (predicted, measured) pairs to plot");
  std::vector<std::string> groups;
  double lo = 0;
  double hi = 0;
  double abs_error = 0;
  std::size_t within = 0;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const prediction_pair& p = pairs[i];
    for (double v : {p.predicted_j, p.measured_j})
      if (!(v > 0) || !std::isfinite(v))
        throw invalid_input(fmt::format(
            "plot: pair {}: predicted {} J, measured {} J: both must be positive and finite", i + 1,
            p.predicted_j, p.measured_j));
    if (std::find(groups.begin(), groups.end(), p.group) == groups.end()) groups.push_back(p.group);
    lo = lo == 0 ? std::min(p.predicted_j, p.measured_j)
                 : std::min({lo, p.predicted_j, p.measured_j});
    hi = std::max({hi, p.predicted_j, p.measured_j});
    const double rel = std::abs(p.predicted_j - p.measured_j) / p.measured_j;
    abs_error += rel;
    if (rel <= 0.1) ++within;
  }
  std::sort(groups.begin(), groups.end());
  const double n = static_cast<double>(pairs.size());
  std::string data = "# measured_j predicted_j; one block per group (gnuplot index 0, 1, ...)\n";
  std::string plots = fmt::format(
      "plot [{0:.6g}:{1:.6g}] '+' using 1:(0.9*$1):(1.1*$1) with filledcurves "
      "fc rgb '#A0D8A0' fs transparent solid 0.5 noborder title '±10 %', \\\n"
      "     x with lines dt 2 lw 1.5 lc rgb '#404040' title 'predicted = measured'",
      lo / 1.25, hi * 1.25);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    data += fmt::format("{}# {}\n", g == 0 ? "" : "\n\n", groups[g].empty() ? "runs" : groups[g]);
    std::size_t count = 0;
    for (const prediction_pair& p : pairs)
      if (p.group == groups[g]) {
        data += fmt::format("{:.9g} {:.9g}\n", p.measured_j, p.predicted_j);
        ++count;
      }
    const std::string name = groups[g].empty() ? std::string("runs") : groups[g];
    // Semi-transparent points (ARGB) so that dense regions read darker.
    std::string rgb(detail::colour(g).substr(1));
    plots += fmt::format(
        ", \\\n     {} index {} using 1:2 with points pt 7 ps 0.8 "
        "lc rgb '#50{}' title {} noenhanced",
        detail::data_name(stem), g, rgb,
        detail::quote(fmt::format("{} ({} run{})", name, count, count == 1 ? "" : "s")));
  }
  plots += "\n";
  const std::string settings_text = fmt::format(
      "set title {} noenhanced\n"
      "set xlabel 'measured energy per run (J, log scale)'\n"
      "set ylabel 'predicted energy per run (J, log scale)'\n"
      "set logscale xy 10\n"
      "set format x '10^{{%L}}'\n"
      "set format y '10^{{%L}}'\n"
      "set xrange [{:.6g}:{:.6g}]\n"
      "set yrange [{:.6g}:{:.6g}]\n"
      "set size ratio -1\n"
      "set samples 400\n"
      "set grid xtics ytics lc rgb '#dddddd'\n"
      "set key top left box opaque samplen 2\n",
      detail::quote_lines(
          title, fmt::format("mean absolute error {:.1f} %, {:.1f} % of {} runs "
                             "within ±10 %",
                             100.0 * abs_error / n, 100.0 * static_cast<double>(within) / n,
                             pairs.size())),
      lo / 1.25, hi * 1.25, lo / 1.25, hi * 1.25);
  // Equal axes: a square figure wastes no space.
  plot_settings square = settings;
  square.svg_width_px = square.svg_height_px + square.svg_height_px / 8;
  square.png_width_px = square.png_height_px + square.png_height_px / 8;
  const std::string script =
      detail::script(stem, "Predicted against measured energy per run, with the ±10 % band",
                     fmt::format("{}.dat", stem), settings_text, plots, square);
  return detail::write_and_render(square, stem, data, script);
}

/// @brief One part of a breakdown bar: a name and its energy.
struct breakdown_part {
  std::string name;
  double joules = 0;
};

/// @brief The parts of the breakdown of an estimate, derived from `term_table`: one per
/// `term_group` but memory, named after the group and the model's terms in it ("fixed (run,
/// epoch)"); then the per-level memory terms, one part per level ("L2 traffic"); then the memory
/// terms that are not per level ("memory (dsbytes)", the data set's own stream). The parts are
/// the same, in the same order, for every estimate of one model and hierarchy, and they sum to
/// `e.total_j`.
inline std::vector<breakdown_part> breakdown_parts(const energy_estimate<double>& e,
                                                   const hierarchy& hardware) {
  std::vector<breakdown_part> parts;
  for (term_group g : all_term_groups) {
    if (g == term_group::memory) continue;
    std::string terms;
    for (std::size_t t = 0; t < term_count; ++t)
      if (term_table[t].group == g && e.terms.contains(t))
        terms += fmt::format("{}{}", terms.empty() ? "" : ", ", term_table[t].name);
    parts.push_back(
        {terms.empty() ? std::string(to_string(g)) : fmt::format("{} ({})", to_string(g), terms),
         e.group_j(g)});
  }
  for (std::size_t k = 0; k < hardware.size(); ++k)
    parts.push_back({fmt::format("{} traffic", hardware.level_name(k)), e.level_j(k)});
  double other = 0;
  std::string names;
  for (std::size_t t = 0; t < term_count; ++t)
    if (term_table[t].group == term_group::memory && term_table[t].width != term_width::per_level) {
      other += e.term_j(t);
      if (e.terms.contains(t)) names += fmt::format("{}{}", names.empty() ? "" : ", ", term_table[t].name);
    }
  parts.push_back({names.empty() ? std::string("memory (other)") : fmt::format("memory ({})", names),
                   other});
  return parts;
}

/// @brief The share of each part of the predicted energy (`breakdown_parts`: the term groups,
/// the traffic served by each memory level, and other memory terms), per size of one sweep, as
/// stacked bars. Parts that are zero at every size are left out.
/// @throws invalid_input when no size has a prediction, or a file cannot be written
inline plot_output energy_breakdown(const sweep_result& sweep, const hierarchy& hardware,
                                    std::string_view title, const plot_settings& settings,
                                    std::string_view stem = "energy_breakdown") {
  struct component {
    std::string name;
    std::vector<double> share_pct;
  };
  std::vector<component> parts;
  std::vector<std::string> labels;
  for (const candidate_evaluation& e : sweep.evaluations) {
    if (!e.ok()) continue;
    labels.push_back(fmt::format("{} {}", detail::size_label(e.target_parameters),
                                 hardware.level_name(e.level(set_kind::forward))));
    const std::vector<breakdown_part> here = breakdown_parts(e.energy, hardware);
    if (parts.empty())
      for (const breakdown_part& p : here) parts.push_back({p.name, {}});
    const double total = e.energy.total_j > 0 ? e.energy.total_j : 1;
    for (std::size_t k = 0; k < parts.size(); ++k)
      parts[k].share_pct.push_back(100 * here[k].joules / total);
  }
  if (labels.empty()) throw invalid_input("plot: no size of the sweep has a prediction to plot");
  std::erase_if(parts, [](const component& c) {
    return std::all_of(c.share_pct.begin(), c.share_pct.end(), [](double v) { return v == 0; });
  });
  std::string data =
      "# share of predicted energy per run (%); first column: target size and the "
      "level the parameters (forward set) land in\n# size";
  for (const component& c : parts) {
    std::string name = c.name;
    std::replace(name.begin(), name.end(), ' ', '_');
    data += " " + name;
  }
  data += "\n";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    data += fmt::format("\"{}\"", labels[i]);
    for (const component& c : parts) data += fmt::format(" {:.6g}", c.share_pct[i]);
    data += "\n";
  }
  std::string plots;
  for (std::size_t c = 0; c < parts.size(); ++c)
    plots += fmt::format("{}{} using {}{} title {} lc rgb '{}'", c == 0 ? "plot " : ", \\\n     ",
                         c == 0 ? detail::data_name(stem) : std::string("''"), c + 2,
                         c == 0 ? ":xtic(1)" : "", detail::quote(parts[c].name), detail::colour(c));
  plots += "\n";
  const std::string settings_text = fmt::format(
      "set title {} noenhanced\n"
      "set xlabel 'target parameters, and the level the parameters land in'\n"
      "set ylabel 'share of predicted energy per run (%)'\n"
      "set style data histograms\n"
      "set style histogram rowstacked\n"
      "set style fill solid 0.9 border rgb '#FFFFFF'\n"
      "set boxwidth 0.85 relative\n"
      "set yrange [0:100]\n"
      "set xtics rotate by -60 scale 0 font ',10'\n"
      "set grid ytics lc rgb '#dddddd'\n"
      "set key outside right top vertical invert noenhanced\n",
      detail::quote(title));
  const std::string script =
      detail::script(stem, "Share of each term of the predicted energy, by size (stacked bars)",
                     fmt::format("{}.dat", stem), settings_text, plots, settings);
  return detail::write_and_render(settings, stem, data, script);
}

}  // namespace wsenergy::plot
