// Measuring subcommands: measure, plan, sweep, train (docs/measuring.md).

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli_common.hpp"
#include "cli_output.hpp"
#include "wsenergy/measure/measure.hpp"
#include "wsenergy/measure/sweep.hpp"
#include "wsenergy/measure/trainer.hpp"

namespace wsenergy::cli {
namespace {

namespace fs = std::filesystem;
using namespace wsenergy::measure;

/// Where the meters look: the defaults, or WSENERGY_POWERCAP_ROOT / WSENERGY_NVML_LIBRARY (for
/// containers that mount sysfs elsewhere, and for tests).
meter_options meter_locations() {
  meter_options o;
  if (const char* root = std::getenv("WSENERGY_POWERCAP_ROOT")) o.powercap_root = root;
  if (const char* lib = std::getenv("WSENERGY_NVML_LIBRARY")) o.nvml_library = lib;
  return o;
}

/// Prints which meters are used and why the others are not (stderr, one line each).
void report_meters(const meter_set& meters) {
  for (const auto& m : meters.meters) {
    std::vector<std::string> names;
    for (const auto& d : m->domains()) names.push_back(d.name);
    fmt::print(stderr, "meter: {} ({})\n", m->name(), fmt::join(names, ", "));
  }
  for (const auto& u : meters.unavailable) fmt::print(stderr, "meter not used: {}\n", u);
  if (!meters.measures_energy())
    fmt::print(stderr, "meter: none measures energy here; runs record their duration only\n");
}

std::string duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto total = static_cast<long long>(std::llround(s));
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}s", total);
}

struct measure_args {
  std::string meter = "auto";
  std::vector<std::string> config;
  std::string out;
  std::string hardware = "host";
  std::vector<std::string> command;
  bool json = false;
  footprint_options footprint;
};

/// A measurement as JSON, with its footprint when one was asked for and energy was measured.
nlohmann::json measurement_json(const measurement& m, const std::optional<footprint_settings>& fp) {
  nlohmann::json domains = nlohmann::json::object();
  for (const auto& [name, j] : m.by_domain) domains[name] = j;
  nlohmann::json j = {{"duration_s", m.duration_s},
                      {"energy_j", number_or_null(m.energy_j)},
                      {"energy_kwh", kwh_or_null(m.energy_j)},
                      {"energy_by_domain_j", domains},
                      {"meters", m.meters},
                      {"note", text_or_null(m.energy_note)},
                      {"status", m.process.ok ? "ok" : "failed"},
                      {"started_at", m.started_at}};
  if (fp)
    j["carbon"] = m.energy_j ? carbon_json(footprint_of(*m.energy_j, *fp), *fp)
                             : footprint_settings_json(*fp);
  return j;
}

void print_measurement(const measurement& m, const std::optional<footprint_settings>& fp) {
  fmt::print("duration: {:.3f} s\n", m.duration_s);
  if (m.energy_j) {
    std::vector<std::string> parts;
    for (const auto& [name, j] : m.by_domain) parts.push_back(fmt::format("{} {:.4g} J", name, j));
    fmt::print("energy: {:.4g} J, {:.4g} kWh ({}; meters: {})\n", *m.energy_j,
               kwh_of_j(*m.energy_j), fmt::join(parts, ", "), m.meters);
    if (fp)
      std::cout << footprint_settings_line(*fp, "")
                << footprint_line(footprint_of(*m.energy_j, *fp), *fp, "");
  } else {
    fmt::print("{}\n", m.energy_note);
    if (fp) std::cout << footprint_settings_line(*fp, "") << "no energy measured: no footprint\n";
  }
}

void run_measure(const measure_args& a) {
  if (a.command.empty())
    throw invalid_input("measure: give the command to run after --, e.g. -- python train.py");
  if (a.command.front().find('=') != std::string::npos &&
      a.command.front().find('/') == std::string::npos)
    throw invalid_input(fmt::format(
        "measure: '{}' looks like a KEY=VALUE pair, not a command: repeat --config for each pair",
        a.command.front()));
  // Without --config the row records the command, its duration and energy, and no network
  // (`fit` sets such rows aside).
  run_config c;
  c.run.hardware = a.hardware;
  if (!a.config.empty()) c = config_from_pairs(a.config, a.hardware);
  const std::optional<footprint_settings> fp = resolve_footprint(a.footprint);
  // Where the row goes is checked before the command runs, so a measurement is never lost: the
  // folder exists and is writable, the file is a regular file with our header (or none yet).
  (void)io::check_output_file(a.out);
  (void)finished_run_ids(a.out);
  meter_set meters = open_meters(parse_meter_choice(a.meter), meter_locations());
  report_meters(meters);
  const measurement m = measure_command(meters, a.command);
  append_measured_row(a.out, measured_fields(c, m, a.command));
  if (a.json) {
    nlohmann::json j = measurement_json(m, fp);
    j["runs_file"] = a.out;
    j["command"] = a.command;
    print_json(j);
  } else {
    print_measurement(m, fp);
    fmt::print("status: {}\nappended to {}\n", m.process.ok ? "ok" : "failed", a.out);
  }
  if (!m.process.ok)
    throw invalid_input(fmt::format("measure: {}; recorded as failed in {}", m.process.message, a.out));
}

struct plan_args {
  plan_request q;
  std::vector<std::string> widths;
  std::int64_t train_examples = network_options::not_given;
  std::int64_t eval_examples = network_options::not_given;
  std::string out;
  bool json = false;
  calibration_args calibrate;
};

void run_plan(plan_args a) {
  if (auto w = widths_of(a.widths)) a.q.widths = *w;
  a.q.train_examples = given(a.train_examples);
  a.q.eval_examples = given(a.eval_examples);
  const plan_result p = make_plan(a.q);
  if (a.calibrate.runs) {  // tools/cmd_calibrate.cpp
    calibration_args c = a.calibrate;
    c.json = a.json;
    return write_calibration_plan(p, c, a.out);
  }
  if (p.runs.empty())
    throw invalid_input(fmt::format(
        "plan: the size search rejects every configuration ({} of them), nothing to write",
        p.rejected.size()));
  io::write_file_atomically(a.out, plan_csv(p.runs));  // checks the target, never half-writes
  if (a.json) {
    print_json({{"output", a.out}, {"runs", p.runs.size()}, {"skipped", p.rejected}});
    return;
  }
  fmt::print("wrote {} runs to {}\n", p.runs.size(), a.out);
  for (const auto& r : p.rejected)
    fmt::print("skipped (no network within 20 % of the size): {}\n", r);
}

struct sweep_args {
  std::string plan;
  std::string out;
  std::string meter = "auto";
  std::string hardware = "host";
  std::string log;
  std::string shard;
  std::vector<std::string> command;
  bool json = false;
};

/// The shard to run and the runs file to write: --shard, else a SLURM array task's (whose id goes
/// into the file name), else the whole plan.
std::pair<shard, std::string> sweep_shard(const sweep_args& a) {
  if (!a.shard.empty()) return {parse_shard(a.shard), a.out};
  const auto task = slurm_array_task();
  if (!task) return {shard{}, a.out};
  const std::string out = with_task_id(a.out, task->task_id).string();
  fmt::print(a.json ? stderr : stdout,
             "sweep: SLURM array task {} runs shard {} of the plan into {}\n", task->task_id,
             task->slice.text(), out);
  return {task->slice, out};
}

void run_sweep_command(sweep_args a) {
  const std::vector<run_config> plan = read_plan(fs::path(a.plan));
  sweep_options o;
  std::tie(o.slice, a.out) = sweep_shard(a);
  o.command_template = a.command;
  if (!o.command_template.empty()) check_template(o.command_template);
  o.builtin_program = fs::read_symlink("/proc/self/exe");
  o.hardware = a.hardware;
  o.log_file = a.log.empty() ? fs::path(a.out + ".log") : fs::path(a.log);
  std::error_code ec;
  if (o.log_file == fs::path(a.out) || fs::equivalent(o.log_file, a.out, ec))
    throw invalid_input(fmt::format(
        "sweep: --log '{}' is the runs file; the runs' output would corrupt it", o.log_file.string()));
  (void)io::check_output_file(a.out);
  (void)finished_run_ids(a.out);  // a foreign file fails here, before any meter is opened
  meter_set meters = open_meters(parse_meter_choice(a.meter), meter_locations());
  report_meters(meters);
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  o.on_progress = [terminal](const sweep_progress& p) {
    const std::string line = fmt::format("[{}/{}] {} {}, ETA {}", p.index, p.to_run, p.run_id,
                                         p.ok ? "ok" : "FAILED", duration_text(p.eta_s));
    if (terminal)
      fmt::print(stderr, "\r\033[K{}{}", line, p.index == p.to_run ? "\n" : "");
    else
      fmt::print(stderr, "{}\n", line);
    std::fflush(stderr);
  };
  const sweep_summary s = run_sweep(plan, a.out, meters, o);
  if (s.orphans_stopped > 0)
    fmt::print(stderr, "sweep: stopped {} command(s) left running by a sweep that was killed\n",
               s.orphans_stopped);
  if (s.interrupted_by != 0)
    throw invalid_input(fmt::format(
        "sweep: interrupted by {}: the running command was stopped and recorded as failed "
        "(interrupted) in {}; run the sweep again to resume",
        signal_name(s.interrupted_by), a.out));
  if (a.json)
    print_json({{"plan", a.plan},
                {"runs_file", a.out},
                {"log_file", o.log_file.string()},
                {"shard", o.slice.count > 1 ? nlohmann::json(o.slice.text()) : nlohmann::json()},
                {"planned", s.planned},
                {"already_done", s.skipped},
                {"busy_elsewhere", s.busy},
                {"ok", s.ok},
                {"failed", s.failed},
                {"orphans_stopped", s.orphans_stopped}});
  else
    fmt::print(
        "sweep: {} planned{}, {} already done, {} ok, {} failed{}; rows in {}, output of the "
        "runs in {}\n",
        s.planned, o.slice.count > 1 ? fmt::format(" in shard {}", o.slice.text()) : "", s.skipped,
        s.ok, s.failed, s.busy ? fmt::format(", {} left to the sweep running them", s.busy) : "",
        a.out, o.log_file.string());
  if (s.failed > 0)
    throw invalid_input(fmt::format(
        "sweep: {} runs failed (recorded as failed in {}; run the sweep again to retry them)",
        s.failed, a.out));
}

struct train_args {
  network_options network;
  trainer_config c;
  bool json = false;
};

/// The trainer's configuration from the network options; what they leave out, the trainer's
/// defaults (a small synthetic task, not the study's 3000 epochs).
trainer_config trainer_config_of(const network_options& n, trainer_config c) {
  io::network_request q = network_request_of(n);
  if (q.dataset.empty() && !q.inputs) q.inputs = c.inputs;
  if (q.dataset.empty() && !q.observations && !q.train_examples)
    q.train_examples = c.train_examples;
  if (!q.batch) q.batch = c.batch;
  if (!q.epochs) q.epochs = c.epochs;
  const io::resolved_network r = io::resolve_network(q, io::network_use::run);
  if (r.type != dtype::fp32)
    throw invalid_input(fmt::format("dtype: the built-in trainer trains in fp32 only, got {}",
                                    to_string(r.type)));
  c.inputs = r.net.inputs();
  c.widths = r.net.widths();
  c.train_examples = r.run.train_examples;
  c.eval_examples = r.run.eval_examples;
  c.batch = r.run.batch;
  c.epochs = r.run.epochs;
  return c;
}

void run_train(train_args a) {
  a.c = trainer_config_of(a.network, a.c);
  mlp_trainer t(a.c);
  const double flops = gemm_flops_per_step(a.c.inputs, a.c.widths, a.c.batch);
  std::int64_t steps = 0;
  double train_s = 0;
  nlohmann::json epochs = nlohmann::json::array();
  t.train([&](const epoch_report& r) {
    if (!std::isfinite(r.train_loss))  // a diverged run is an error, not a row of NaN losses
      throw invalid_input(fmt::format(
          "train: the training loss is {} at epoch {}: the run diverged (try a smaller "
          "--learning-rate)",
          r.train_loss, r.epoch));
    steps += r.steps;
    train_s += r.train_s;
    const double step_ms = 1e3 * r.train_s / static_cast<double>(r.steps);
    if (a.json) {
      epochs.push_back({{"epoch", r.epoch},
                        {"train_loss", r.train_loss},
                        {"eval_loss", std::isnan(r.eval_loss) ? nlohmann::json() : nlohmann::json(r.eval_loss)},
                        {"train_s", r.train_s},
                        {"steps", r.steps}});
      return;
    }
    fmt::print("epoch {:>4}: loss {:.6g}{}, {:.4g} ms/step\n", r.epoch, r.train_loss,
               std::isnan(r.eval_loss) ? std::string() : fmt::format(", eval loss {:.6g}", r.eval_loss),
               step_ms);
  });
  const double step_s = train_s / static_cast<double>(steps);
  if (a.json) {
    print_json({{"widths", a.c.widths},
                {"inputs", a.c.inputs},
                {"parameters", parameter_count(a.c.inputs, a.c.widths)},
                {"batch", a.c.batch},
                {"epochs", epochs},
                {"steps", steps},
                {"mean_step_s", step_s},
                {"gemm_flops_per_step", flops},
                {"gemm_gflops_per_s", flops / step_s * 1e-9}});
    return;
  }
  fmt::print("{} steps, mean step {:.4g} ms, matrix products at {:.3g} GFLOP/s\n", steps,
             1e3 * step_s, flops / step_s * 1e-9);
}

}  // namespace

void add_measure_commands(CLI::App& app) {
  {
    auto a = std::make_shared<measure_args>();
    CLI::App* cmd = app.add_subcommand(
        "measure", "run a command, measure its duration and energy, append one row to a runs file");
    cmd->add_option("--meter", a->meter, "auto (every meter that works), rapl, nvml or none")
        ->capture_default_str();
    cmd->add_option("--config", a->config,
                    "KEY=VALUE of the run: widths, inputs, train_examples, batch, epochs are needed "
                    "for fitting (also outputs, eval_examples, dataset, run_id, or shape/size/depth); "
                    "repeat --config for each pair; without --config the row has no network")
        ->allow_extra_args(false);
    cmd->add_option("--hardware", a->hardware, "the hardware column (a preset name or a label)")
        ->capture_default_str();
    cmd->add_option("--out", a->out, "runs file to append to")->required();
    cmd->add_option("command", a->command, "the command and its arguments, after --");
    add_json_flag(*cmd, a->json, "print JSON: the measurement and where its row went");
    add_footprint_options(*cmd, a->footprint);
    cmd->footer("The command and its arguments follow --: wsenergy measure ... -- python train.py");
    cmd->callback([a] { run_measure(*a); });
  }
  {
    auto a = std::make_shared<plan_args>();
    CLI::App* cmd =
        app.add_subcommand("plan", "write a plan of configurations (size search on each shape)");
    auto* shapes = cmd->add_option("--shapes", a->q.shapes, "shapes")->capture_default_str();
    auto* sizes = cmd->add_option("--sizes", a->q.sizes, "target parameter counts");
    auto* depths =
        cmd->add_option("--depths", a->q.depths, "depths (dense layers, output included)")
            ->capture_default_str();
    cmd->add_option("--widths", a->widths,
                    "instead of shapes, sizes and depths: one explicit network, output last "
                    "(1024,512,10 or \"1024 512 10\")")
        ->excludes(shapes)
        ->excludes(sizes)
        ->excludes(depths);
    auto* ds = cmd->add_option("--dataset", a->q.datasets, "BUTTER data sets (mnist, 201_pol, ...)");
    auto* in = cmd->add_option("--inputs", a->q.inputs, "input width (without --dataset)");
    auto* out = cmd->add_option("--outputs", a->q.outputs,
                                "output width (without --dataset; with --widths: the last width)");
    auto* train = cmd->add_option("--train-examples", a->train_examples,
                                  "training examples per epoch (default with --dataset: 80 % of "
                                  "its rows)");
    auto* eval = cmd->add_option("--eval-examples", a->eval_examples,
                                 "evaluation examples per epoch (default: 0; with --dataset: the "
                                 "rest of its rows)");
    auto* obs = cmd->add_option("--observations", a->q.observations,
                                "older spelling: rows of the synthetic data split 80 % training, "
                                "20 % evaluation");
    ds->excludes(in)->excludes(out)->excludes(obs);
    obs->excludes(train)->excludes(eval);
    cmd->add_option("--batch", a->q.batches, "batch sizes")->capture_default_str();
    cmd->add_option("--epochs", a->q.epochs, "epoch counts")->capture_default_str();
    cmd->add_option("--repeats", a->q.repeats, "runs of each configuration")->capture_default_str();
    cmd->add_option("--out", a->out, "plan file to write")->required();
    add_json_flag(*cmd, a->json, "print JSON: the runs planned and the sizes skipped");
    add_calibration_options(*cmd, a->calibrate);
    cmd->callback([a] { run_plan(*a); });
  }
  {
    auto a = std::make_shared<sweep_args>();
    CLI::App* cmd = app.add_subcommand(
        "sweep", "run every configuration of a plan (resumable); default workload: wsenergy train");
    cmd->add_option("--plan", a->plan, "plan file (wsenergy plan)")->required();
    cmd->add_option("--out", a->out, "runs file to append to; runs already ok in it are skipped")
        ->required();
    cmd->add_option("--meter", a->meter, "auto, rapl, nvml or none")->capture_default_str();
    cmd->add_option("--hardware", a->hardware, "the hardware column")->capture_default_str();
    cmd->add_option("--log", a->log, "file for the runs' output (default: OUT.log)");
    cmd->add_option("--shard", a->shard,
                    "I/N: run the I-th of N interleaved slices of the plan (1-based); default "
                    "inside a SLURM array task: its own slice, into OUT with the task id");
    cmd->add_option("command", a->command, "command template, after --");
    add_json_flag(*cmd, a->json, "print JSON: runs done, skipped and failed, and the files");
    cmd->footer("A command template may follow --, with {widths} {inputs} {outputs} {batch} {epochs} "
                "{train_examples} {eval_examples} {run_id} {dataset} {shape} {size} {depth} "
                "({examples}: older spelling of {train_examples}); without one each run is "
                "`wsenergy train`.");
    cmd->callback([a] { run_sweep_command(*a); });
  }
  {
    auto a = std::make_shared<train_args>();
    CLI::App* cmd = app.add_subcommand(
        "train", "the built-in workload: an fp32 MLP trained with Adam on synthetic data");
    cmd->footer("The built-in trainer trains in fp32 only.");
    add_network_options(*cmd, a->network, io::network_use::run, "--examples");
    // The trainer's defaults are a small synthetic task, not the study's run.
    cmd->get_option("--inputs")->description(fmt::format("input width (default {})", a->c.inputs));
    cmd->get_option("--train-examples")
        ->description(fmt::format("training examples per epoch (default {})", a->c.train_examples));
    cmd->get_option("--batch")->description(
        fmt::format("examples per step (default {})", a->c.batch));
    cmd->get_option("--epochs")->description(fmt::format("epochs (default {})", a->c.epochs));
    cmd->add_option("--learning-rate", a->c.learning_rate, "Adam step size")->capture_default_str();
    cmd->add_option("--seed", a->c.seed, "seed of data, teacher and weights")->capture_default_str();
    add_json_flag(*cmd, a->json);
    cmd->callback([a] { run_train(*a); });
  }
}

}  // namespace wsenergy::cli
