#pragma once
// Shared pieces of the wsenergy command-line tool: hardware and network options, output helpers.

#include <array>
#include <cstdint>
#include <limits>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "wsenergy/wsenergy.hpp"
#include "wsenergy/io/network_json.hpp"
#include "wsenergy/io/resolve.hpp"
#include "wsenergy/io/runs.hpp"
#include "wsenergy/measure/sweep.hpp"

namespace wsenergy::cli {

class figure_log;  // tools/cli_output.hpp

/// A preset name (`eagle-cpu`, ...), `host`, or a path to a hierarchy JSON file (the library's
/// rule, wsenergy/io/resolve.hpp).
using io::resolve_hardware;

/// The folder of the shipped data (data/ of the source tree, or the installed copy);
/// WSENERGY_DATA_DIR overrides it.
std::filesystem::path data_dir();

/// Options that describe one network and, optionally, its training run: a BUTTER shape
/// (--shape --size --depth) or explicit --widths, or a --network file; --dataset or --inputs
/// (--outputs); the run and --dtype. Counts not given hold `not_given`.
struct network_options {
  static constexpr std::int64_t not_given = std::numeric_limits<std::int64_t>::min();
  std::string network_file;
  std::string shape;
  std::int64_t size = not_given;
  int depth = std::numeric_limits<int>::min();  ///< an int: a depth beyond it is a parse error
  std::vector<std::string> widths;
  std::string dataset;
  std::int64_t inputs = not_given;
  std::int64_t outputs = not_given;
  std::int64_t train_examples = not_given;
  std::int64_t eval_examples = not_given;
  std::int64_t observations = not_given;
  std::int64_t batch = not_given;
  std::int64_t epochs = not_given;
  std::string dtype;
};

/// An option value, or nothing when it was not given.
inline std::optional<std::int64_t> given(std::int64_t v) {
  return v == network_options::not_given ? std::nullopt : std::optional<std::int64_t>(v);
}

/// Adds the network options (--network, --shape --size --depth | --widths, --dataset | --inputs
/// --outputs, --dtype) and, for `io::network_use::run`, the run's (--train-examples
/// --eval-examples --observations --batch --epochs).
/// @param examples_alias an older name that --train-examples also answers to (`--examples` of
/// `train`), or empty
void add_network_options(CLI::App& app, network_options& o, io::network_use use,
                         const std::string& examples_alias = "");

/// Adds the options of the task alone, for commands that choose the network themselves
/// (`advise`, `plot`): --dataset | --inputs --outputs, --dtype and, for `io::network_use::run`,
/// the run's. Returns --dataset, --inputs and --outputs.
std::array<CLI::Option*, 3> add_task_options(CLI::App& app, network_options& o,
                                             io::network_use use,
                                             const std::string& examples_alias = "");

/// The widths of --widths (one network, commas or spaces, over one or more arguments), or none.
/// @throws invalid_input naming --widths and the text for an empty, non-numeric or non-positive
/// entry, or fewer than two
std::optional<std::vector<std::int64_t>> widths_of(const std::vector<std::string>& args);

/// The request the options make: a --network file's fields, replaced by the options given
/// besides.
/// @throws invalid_input for a bad file, width list or value type
io::network_request network_request_of(const network_options& o);

/// The network and run the options describe (`io::resolve_network` of `network_request_of`).
/// @throws invalid_input for a missing or bad option or file, or a size the search rejects
io::resolved_network resolve_network(const network_options& o, io::network_use use);

/// The network in words: "rectangle network of depth 3 (target 16384 parameters)" or "network
/// of depth 3", then its inputs (or data set), widths and parameters.
std::string network_text(const io::resolved_network& r);

/// JSON of a placement with its level name.
nlohmann::json placement_json(const placement& p, const hierarchy& h);

/// The runs of runs files (BUTTER-E or generic), a folder standing for its `*.csv` shards.
std::vector<io::measured_run> load_runs(const std::vector<std::string>& files);

/// Prints JSON (indented) to stdout.
void print_json(const nlohmann::json& j);

/// Bytes as text: "32 KiB", "24.75 MiB".
std::string human_bytes(double bytes);

/// Registers the core subcommands: topology, hardware, working-sets, workload.
void add_core_commands(CLI::App& app);

/// Registers design advice and figures: advise, plot energy|breakdown|scatter (tools/cmd_advise.cpp).
void add_advise_commands(CLI::App& app);

/// The demo's figures (tools/cmd_advise.cpp): for each fitted model, energy per example of
/// rectangles of depth 2, 4, 8 and 16 on 201_pol with the measured runs, its breakdown, and
/// predicted against measured energy of `runs` on its hardware; written under `directory`,
/// with where they went printed or kept in `log` (tools/cli_output.hpp).
void write_demo_plots(const std::vector<energy_model<double>>& models,
                      const std::vector<io::measured_run>& runs,
                      const std::filesystem::path& directory, figure_log& log);

/// `plan --calibrate N`: how many runs to choose, on which hardware, with which prior and budget.
struct calibration_args {
  std::optional<std::int64_t> runs;  ///< --calibrate N; nothing for a plain plan
  std::string hardware;              ///< --hardware (default host)
  std::string prior;                 ///< --prior: a model file or fitted preset (default: derived)
  std::optional<double> budget_j;    ///< --budget-j
  std::optional<double> budget_s;    ///< --budget-s
  std::vector<std::string> measured; ///< --measured: runs files of configurations measured already
  bool json = false;                 ///< plan --json: print what was chosen as JSON
};

/// Adds --calibrate, --hardware, --prior, --budget-j and --budget-s to `plan`.
void add_calibration_options(CLI::App& plan, calibration_args& a);

/// Writes the plan of the `a.runs` candidates of `p` that pin the model down best for their cost
/// (tools/cmd_calibrate.cpp).
void write_calibration_plan(const measure::plan_result& p, const calibration_args& a,
                            const std::string& out);

/// `evaluate --learning-curve`: the runs files, hardware, prior and sizes.
struct learning_curve_args {
  std::vector<std::string> files;
  std::string hardware;
  std::string device;
  std::string prior;
  std::vector<std::size_t> sizes = {10, 15, 20, 30, 50, 100};
  int draws = 20;
  int resamples = 10;
  std::uint64_t seed = 240308151;
  bool json = false;
};

/// Prints the learning curve of few-run calibration on the runs (tools/cmd_calibrate.cpp).
void run_learning_curve(const learning_curve_args& a);

/// Registers the measuring subcommands: measure, plan, sweep, train (tools/cmd_measure.cpp).
void add_measure_commands(CLI::App& app);

/// Registers sweeps on a cluster: slurm, merge, status (tools/cmd_cluster.cpp).
void add_cluster_commands(CLI::App& app);

/// Registers fitting and prediction: fit, predict, evaluate, demo (tools/cmd_fit.cpp).
void add_fit_commands(CLI::App& app);

}  // namespace wsenergy::cli
