// Design advice and figures: `wsenergy advise` and `wsenergy plot energy|breakdown|scatter`.

#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli_common.hpp"
#include "cli_output.hpp"
#include "wsenergy/advisor.hpp"
#include "wsenergy/fitted.hpp"
#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/io/csv.hpp"
#include "wsenergy/io/model_json.hpp"
#include "wsenergy/io/resolve.hpp"
#include "wsenergy/plot.hpp"

namespace wsenergy::cli {
namespace {

/// What `advise` and `plot energy|breakdown` share: hardware, model, shapes, depths, task, sizes.
struct advise_options {
  std::string hardware;
  std::string model;
  std::vector<std::string> shapes;
  std::vector<int> depths;
  std::string dataset;
  std::int64_t inputs = network_options::not_given;
  std::int64_t outputs = network_options::not_given;
  std::int64_t observations = network_options::not_given;
  std::int64_t batch = 256;
  std::int64_t epochs = 3000;
  std::string sizes = "2^5..2^24";
  double tolerance = 0.05;
};

void add_advise_options(CLI::App& cmd, advise_options& o) {
  cmd.add_option("--hardware", o.hardware,
                 "a preset (eagle-cpu, eagle-gpu, ...), host, or a JSON file")
      ->required();
  cmd.add_option("--model", o.model,
                 "a model file written by `wsenergy fit -o` (default: the fitted preset of the "
                 "hardware)");
  cmd.add_option("--shape", o.shapes, "one or more shapes (rectangle, trapezoid, ...)")
      ->required()
      ->delimiter(',');
  cmd.add_option("--depth", o.depths, "one or more depths (dense layers incl. output)")
      ->required()
      ->delimiter(',');
  auto* dataset = cmd.add_option("--dataset", o.dataset, "a BUTTER data set (mnist, 201_pol, ...)");
  auto* inputs = cmd.add_option("--inputs", o.inputs, "input width");
  auto* outputs = cmd.add_option("--outputs", o.outputs, "output width");
  auto* obs = cmd.add_option("--observations", o.observations,
                             "rows of the data set (80 % train, 20 % evaluation)");
  dataset->excludes(inputs)->excludes(outputs)->excludes(obs);
  cmd.add_option("--sizes", o.sizes,
                 "target parameter counts: N, 2^K, A..B (each doubling), A..B:S (S steps per "
                 "doubling), comma-separated")
      ->capture_default_str();
  cmd.add_option("--epochs", o.epochs, "epochs")->capture_default_str();
  cmd.add_option("--batch", o.batch, "examples per step")->capture_default_str();
}

/// The model a command uses and a name for it.
struct resolved_model {
  energy_model<double> model;
  std::string name;
};

/// The model of `--model`, or the fitted preset of `--hardware` (the library's rule, with its
/// level check), named for the output.
resolved_model resolve_model(const std::string& model_file, const std::string& hardware_spec) {
  energy_model<double> m = io::resolve_model(model_file, hardware_spec);
  return {std::move(m), model_file.empty() ? fmt::format("fitted {}", hardware_spec)
                                           : std::filesystem::path(model_file).filename().string()};
}

/// The task: widths and training run.
struct task {
  std::int64_t inputs = 0;
  std::int64_t outputs = 0;
  training_run run;
  std::string name;  ///< data set, or "I inputs, O outputs"
};

task resolve_task(const advise_options& o) {
  const io::training_task t = io::task_of(o.dataset, given(o.inputs), given(o.outputs),
                                          given(o.observations), o.batch, o.epochs);
  return {t.inputs, t.outputs, t.run,
          t.dataset.empty() ? fmt::format("{} inputs, {} outputs, {} observations", t.inputs,
                                          t.outputs, t.run.observations())
                            : t.dataset};
}

/// Everything a sweep command computes.
struct advice {
  resolved_model model;
  task job;
  std::vector<sweep_result> sweeps;
};

advice compute_advice(const advise_options& o) {
  advice a{resolve_model(o.model, o.hardware), resolve_task(o), {}};
  std::vector<shape> shapes;
  for (const std::string& s : o.shapes) shapes.push_back(parse_shape(s));
  const std::vector<std::int64_t> sizes = parse_sizes(o.sizes);
  const advisor adv(a.model.model, a.job.inputs, a.job.outputs, a.job.run);
  a.sweeps = sweep_all(adv, shapes, o.depths, sizes, o.tolerance);
  return a;
}

/// "2^14" for powers of two, else the number with thin grouping.
std::string size_text(std::int64_t n) {
  if (n > 0 && (n & (n - 1)) == 0)
    return fmt::format("2^{}", std::countr_zero(static_cast<std::uint64_t>(n)));
  return fmt::format("{}", n);
}

/// Widths with runs collapsed: "512*18 10".
std::string widths_text(const std::vector<std::int64_t>& w) {
  std::string out;
  for (std::size_t i = 0; i < w.size();) {
    std::size_t j = i;
    while (j < w.size() && w[j] == w[i]) ++j;
    out += fmt::format(
        "{}{}", out.empty() ? "" : " ",
        j - i > 2 ? fmt::format("{}*{}", w[i], j - i)
                  : (j - i == 2 ? fmt::format("{} {}", w[i], w[i]) : fmt::format("{}", w[i])));
    i = j;
  }
  return out;
}

/// The groups of `term_table` that have a term in `terms`, in `all_term_groups` order: the
/// columns of the shares.
std::vector<term_group> groups_of(term_set terms) {
  std::vector<term_group> out;
  for (term_group g : all_term_groups)
    for (std::size_t t = 0; t < term_count; ++t)
      if (term_table[t].group == g && terms.contains(t)) {
        out.push_back(g);
        break;
      }
  return out;
}

/// "fixed = run + epoch, steps = train_step + eval_step, ...": what each group column holds.
std::string groups_legend(term_set terms) {
  std::vector<std::string> items;
  for (term_group g : groups_of(terms)) {
    std::vector<std::string_view> names;
    for (std::size_t t = 0; t < term_count; ++t)
      if (term_table[t].group == g && terms.contains(t)) names.push_back(term_table[t].name);
    items.push_back(fmt::format("{} = {}", to_string(g), fmt::join(names, " + ")));
  }
  return fmt::format("{}", fmt::join(items, ", "));
}

/// Share of the energy in a group, percent.
double group_share_pct(const energy_estimate<double>& e, term_group g) {
  const double total = e.total_j > 0 ? e.total_j : 1;
  return 100 * e.group_j(g) / total;
}

/// Width of a group's column in the table.
std::size_t group_column_width(term_group g) {
  return std::max<std::size_t>(5, to_string(g).size());
}

nlohmann::json evaluation_json(const candidate_evaluation& e, const std::vector<std::int64_t>& w,
                               const hierarchy& h, double examples,
                               const std::optional<footprint_settings>& fp) {
  nlohmann::json j = {{"target_parameters", e.target_parameters},
                      {"status", std::string(to_string(e.status))},
                      {"parameters", e.parameters},
                      {"relative_size_error", e.relative_size_error},
                      {"widths", w}};
  if (!e.ok()) return j;
  nlohmann::json levels = nlohmann::json::object();
  for (set_kind k : all_set_kinds) levels[std::string(to_string(k))] = h.level_name(e.level(k));
  const double total = e.energy.total_j;
  nlohmann::json share = nlohmann::json::object();
  for (std::size_t t = 0; t < term_count; ++t)
    if (e.energy.terms.contains(t))
      share[std::string(term_table[t].name)] = total > 0 ? e.energy.term_j(t) / total : 0.0;
  nlohmann::json by_group = nlohmann::json::object();
  for (term_group g : groups_of(e.energy.terms))
    by_group[std::string(to_string(g))] = total > 0 ? e.energy.group_j(g) / total : 0.0;
  nlohmann::json by_level = nlohmann::json::object();
  for (std::size_t l = 0; l < h.size(); ++l) by_level[h.level_name(l)] = e.energy.level_j(l);
  j["levels"] = levels;
  j["energy_j"] = e.energy.total_j;
  j["energy_per_example_j"] = e.energy_per_example_j;
  j["examples"] = examples;
  j["share"] = share;
  j["share_by_group"] = by_group;
  j["memory_by_level_j"] = by_level;
  if (fp) j["carbon"] = footprint_json(footprint_of(e.energy.total_j, *fp));
  return j;
}

nlohmann::json sweep_json(const sweep_result& s, const hierarchy& h, double examples,
                          const std::optional<footprint_settings>& fp) {
  nlohmann::json sizes = nlohmann::json::array();
  for (std::size_t i = 0; i < s.evaluations.size(); ++i)
    sizes.push_back(evaluation_json(s.evaluations[i], s.widths[i], h, examples, fp));
  nlohmann::json spills = nlohmann::json::array();
  for (const spill_point& p : s.spills)
    spills.push_back({{"set", std::string(to_string(p.set))},
                      {"from_level", h.level_name(p.from_level)},
                      {"to_level", h.level_name(p.to_level)},
                      {"target_parameters", p.target_parameters},
                      {"parameters", p.parameters}});
  nlohmann::json j = {{"shape", std::string(to_string(s.kind))},
                      {"depth", s.depth},
                      {"sizes", sizes},
                      {"spill_points", spills},
                      {"optimum", nullptr}};
  if (s.best) {
    nlohmann::json near = nlohmann::json::array();
    for (std::size_t i : s.best->near) near.push_back(s.evaluations[i].target_parameters);
    const candidate_evaluation& b = s.evaluations[s.best->best];
    j["optimum"] = {{"target_parameters", b.target_parameters},
                    {"parameters", b.parameters},
                    {"energy_per_example_j", b.energy_per_example_j},
                    {"tolerance", s.best->tolerance},
                    {"near_optimal_target_parameters", near}};
  }
  return j;
}

/// The footprint columns of the advice table: kg CO2e and cost per run (empty without them).
std::string footprint_cells(const std::optional<footprint_settings>& fp,
                            const std::optional<double>& energy_j) {
  if (!fp) return {};
  std::string out;
  const std::optional<footprint> f =
      energy_j ? std::optional<footprint>(footprint_of(*energy_j, *fp)) : std::nullopt;
  if (fp->carbon)
    out += f ? fmt::format(" {:>10.4g}", *f->co2e_kg) : fmt::format(" {:>10}", "kg CO2e");
  if (fp->price_per_kwh)
    out += f ? fmt::format(" {:>10.4g}", *f->cost)
             : fmt::format(" {:>10}", fmt::format("cost {}", fp->currency));
  return out;
}

std::string text_of(const advice& a, const std::optional<double>& budget_j,
                    const std::optional<footprint_settings>& fp) {
  const hierarchy& h = a.model.model.hardware();
  const std::vector<term_group> groups = groups_of(a.model.model.terms());
  std::string out = fmt::format(
      "{} with model '{}' ({} placement); task {}: {} training examples x {} epochs, batch {}\n",
      h.name(), a.model.name, to_string(a.model.model.placement()), a.job.name,
      a.job.run.train_examples, a.job.run.epochs, a.job.run.batch);
  out += "levels: where each working set lands (inter-layer, forward, backward, data set)\n";
  out += fmt::format("shares of the energy by group of terms: {}\n",
                     groups_legend(a.model.model.terms()));
  if (fp) out += fmt::format("footprint of each run (kg CO2e, cost): {}\n", fp->text());
  for (const sweep_result& s : a.sweeps) {
    out += fmt::format("\n{}\n", s.label());
    out += fmt::format("  {:>6} {:>10}  {:<22} {:<22} {:>11} {:>11} ", "size", "params", "widths",
                       "levels l/f/b/d", "J per run", "J/example");
    for (term_group g : groups) out += fmt::format(" {:>{}}", to_string(g), group_column_width(g));
    out += footprint_cells(fp, std::nullopt) + "\n";
    for (std::size_t i = 0; i < s.evaluations.size(); ++i) {
      const candidate_evaluation& e = s.evaluations[i];
      const std::string size = size_text(e.target_parameters);
      if (e.status == candidate_status::size_rejected) {
        out += fmt::format(
            "  {:>6} {:>10}  no such network: the nearest has {} parameters "
            "({:+.0f} %)\n",
            size, "-", e.parameters,
            100.0 * (static_cast<double>(e.parameters) - static_cast<double>(e.target_parameters)) /
                static_cast<double>(e.target_parameters));
        continue;
      }
      if (e.status == candidate_status::too_large) {
        out += fmt::format("  {:>6} {:>10}  {:<22} does not fit in main memory\n", size,
                           e.parameters, widths_text(s.widths[i]));
        continue;
      }
      const std::string levels = fmt::format(
          "{}/{}/{}/{}", h.level_name(e.level(set_kind::inter_layer)),
          h.level_name(e.level(set_kind::forward)), h.level_name(e.level(set_kind::backward)),
          h.level_name(e.level(set_kind::dataset)));
      std::string w = widths_text(s.widths[i]);
      if (w.size() > 22) w = w.substr(0, 21) + "~";
      const bool best = s.best && s.best->best == i;
      out += fmt::format("{} {:>6} {:>10}  {:<22} {:<22} {:>11.4g} {:>11.4g} ", best ? "*" : " ",
                         size, e.parameters, w, levels, e.energy.total_j, e.energy_per_example_j);
      for (term_group g : groups)
        out += fmt::format(" {:>{}.0f}%", group_share_pct(e.energy, g), group_column_width(g) - 1);
      out += footprint_cells(fp, e.energy.total_j) + "\n";
    }
    if (s.spills.empty()) {
      out += "  spill points: none (every set stays in its level over these sizes)\n";
    } else {
      out += "  spill points (first size at which a set lands in another level):\n";
      for (const spill_point& p : s.spills)
        out += fmt::format("    {:<12} {:>5} -> {:<5} at {} ({} parameters)\n", to_string(p.set),
                           h.level_name(p.from_level), h.level_name(p.to_level),
                           size_text(p.target_parameters), p.parameters);
    }
    if (s.best) {
      const candidate_evaluation& b = s.evaluations[s.best->best];
      const candidate_evaluation& largest = s.evaluations[s.best->near.back()];
      out +=
          fmt::format("  least energy per example (*): {} ({} parameters), {:.4g} J per example\n",
                      size_text(b.target_parameters), b.parameters, b.energy_per_example_j);
      std::vector<std::string> near;
      for (std::size_t i : s.best->near)
        near.push_back(size_text(s.evaluations[i].target_parameters));
      out += fmt::format(
          "  within {:g} % of it: {}; the largest, {} ({} parameters), keeps its parameters in "
          "{}\n",
          100 * s.best->tolerance, fmt::join(near, " "), size_text(largest.target_parameters),
          largest.parameters, h.level_name(largest.level(set_kind::forward)));
    } else {
      out += "  no size of this sweep has a prediction\n";
    }
  }
  if (budget_j) {
    const auto picks = within_budget(a.sweeps, *budget_j);
    out +=
        fmt::format("\nlargest networks whose predicted energy fits {:g} J per run:\n", *budget_j);
    for (const budget_pick& p : picks) {
      const sweep_result& s = a.sweeps[p.sweep];
      const candidate_evaluation& e = s.evaluations[p.index];
      out += fmt::format("  {:<28} {:>6} {:>10} parameters  {:>11.4g} J  ({:.4g} J per example)",
                         s.label(), size_text(e.target_parameters), e.parameters, e.energy.total_j,
                         e.energy_per_example_j);
      out += fp ? footprint_line(footprint_of(e.energy.total_j, *fp), *fp, "; ") : "\n";
    }
  }
  return out;
}

void run_advise(const advise_options& o, std::optional<double> budget_j, bool json,
                const footprint_options& footprint) {
  const std::optional<footprint_settings> fp = resolve_footprint(footprint);
  const advice a = compute_advice(o);
  if (!json) {
    std::cout << text_of(a, budget_j, fp);
    return;
  }
  const hierarchy& h = a.model.model.hardware();
  const double examples =
      static_cast<double>(a.job.run.train_examples) * static_cast<double>(a.job.run.epochs);
  nlohmann::json sweeps = nlohmann::json::array();
  for (const sweep_result& s : a.sweeps) sweeps.push_back(sweep_json(s, h, examples, fp));
  nlohmann::json out = {{"hardware", h.name()},
                        {"model", a.model.name},
                        {"placement", std::string(to_string(a.model.model.placement()))},
                        {"terms", a.model.model.terms().names()},
                        {"task",
                         {{"name", a.job.name},
                          {"inputs", a.job.inputs},
                          {"outputs", a.job.outputs},
                          {"train_examples", a.job.run.train_examples},
                          {"eval_examples", a.job.run.eval_examples},
                          {"batch", a.job.run.batch},
                          {"epochs", a.job.run.epochs}}},
                        {"sweeps", sweeps}};
  if (budget_j) {
    nlohmann::json picks = nlohmann::json::array();
    for (const budget_pick& p : within_budget(a.sweeps, *budget_j)) {
      const sweep_result& s = a.sweeps[p.sweep];
      const candidate_evaluation& e = s.evaluations[p.index];
      picks.push_back({{"shape", std::string(to_string(s.kind))},
                       {"depth", s.depth},
                       {"target_parameters", e.target_parameters},
                       {"parameters", e.parameters},
                       {"widths", s.widths[p.index]},
                       {"energy_j", e.energy.total_j},
                       {"energy_per_example_j", e.energy_per_example_j}});
      if (fp) picks.back()["carbon"] = footprint_json(footprint_of(e.energy.total_j, *fp));
    }
    out["budget"] = {{"budget_j", *budget_j}, {"largest_within_budget", picks}};
  }
  if (fp) out["carbon"] = footprint_settings_json(*fp);
  print_json(out);
}

struct plot_common {
  std::string directory = ".";
  std::string gnuplot;
  std::string name;  ///< file stem, or empty for the command's default
  bool json = false;
};

void add_plot_common(CLI::App& cmd, plot_common& p) {
  cmd.add_option("--out", p.directory, "folder for the data, script and images (created)")
      ->capture_default_str();
  cmd.add_option("--name", p.name, "file name stem of the figure (default: per command)");
  cmd.add_option("--gnuplot", p.gnuplot,
                 "gnuplot program (default: $WSENERGY_GNUPLOT, else gnuplot on the PATH)");
  add_json_flag(cmd, p.json, "print JSON: the files written");
}

/// Prints the JSON of a plot command: its figures and what they show.
void print_figures(const figure_log& log, nlohmann::json about) {
  if (!log.is_json()) return;
  about["figures"] = log.json();
  print_json(about);
}

plot::plot_settings settings_of(const plot_common& p) {
  plot::plot_settings s;
  s.directory = p.directory;
  s.gnuplot = p.gnuplot;
  return s;
}

/// The runs of `runs` (measured on the sweeps' hardware: `io::runs_for_hardware`) that trained a
/// network of one of the sweeps on this task, as energy per training example, one series per
/// sweep.
std::vector<plot::measured_series> measured_overlay(const std::vector<sweep_result>& sweeps,
                                                    const task& job,
                                                    const std::vector<io::measured_run>& runs) {
  std::vector<plot::measured_series> out;
  for (std::size_t s = 0; s < sweeps.size(); ++s) {
    plot::measured_series m;
    m.sweep = s;
    for (const io::measured_run& r : runs) {
      if (!r.ok || !r.energy_j || !(*r.energy_j > 0)) continue;
      if (r.inputs != job.inputs || r.run.observations() != job.run.observations()) continue;
      if (std::find(sweeps[s].widths.begin(), sweeps[s].widths.end(), r.widths) ==
          sweeps[s].widths.end())
        continue;
      const double examples =
          static_cast<double>(r.run.train_examples) * static_cast<double>(r.run.epochs);
      m.points.emplace_back(static_cast<double>(parameter_count(r.inputs, r.widths)),
                            *r.energy_j / examples);
    }
    m.label = fmt::format("measured: {} ({} run{})", sweeps[s].label(), m.points.size(),
                          m.points.size() == 1 ? "" : "s");
    if (!m.points.empty()) out.push_back(std::move(m));
  }
  return out;
}

void run_plot_energy(const advise_options& o, const plot_common& p, const std::string& runs_file) {
  const advice a = compute_advice(o);
  std::vector<plot::measured_series> measured;
  if (!runs_file.empty()) {
    const std::vector<std::string> files = {runs_file};
    measured = measured_overlay(a.sweeps, a.job,
                                io::runs_for_hardware(io::read_runs(runs_file),
                                                      a.model.model.hardware(), "", false, files));
    if (measured.empty())
      throw invalid_input(
          fmt::format("--runs: {} has no run of these networks on hardware '{}' for task {}",
                      runs_file, a.model.model.hardware().name(), a.job.name));
  }
  const std::string title =
      measured.empty() ? fmt::format("Predicted energy per training example: {}, {} (model: {})",
                                     a.model.model.hardware().name(), a.job.name, a.model.name)
                       : fmt::format(
                             "Energy per training example, {}, {}: model {} (lines), measured runs "
                             "(circles)",
                             a.model.model.hardware().name(), a.job.name, a.model.name);
  figure_log log(p.json);
  log.add(plot::energy_curves(a.sweeps, a.model.model.hardware(), title, settings_of(p),
                              p.name.empty() ? "energy_per_example" : p.name, measured));
  std::size_t points = 0;
  for (const auto& m : measured) points += m.points.size();
  print_figures(log, {{"hardware", a.model.model.hardware().name()},
                      {"model", a.model.name},
                      {"task", a.job.name},
                      {"title", title},
                      {"measured_runs", points}});
}

void run_plot_breakdown(const advise_options& o, const plot_common& p) {
  const advice a = compute_advice(o);
  figure_log log(p.json);
  for (const sweep_result& s : a.sweeps) {
    const std::string base = p.name.empty() ? std::string("energy_breakdown") : p.name;
    const std::string stem = a.sweeps.size() == 1
                                 ? base
                                 : fmt::format("{}_{}_depth{}", base, to_string(s.kind), s.depth);
    const std::string title =
        fmt::format("Where the predicted energy goes: {}, {}, {} (model: {})", s.label(),
                    a.model.model.hardware().name(), a.job.name, a.model.name);
    log.add(plot::energy_breakdown(s, a.model.model.hardware(), title, settings_of(p), stem));
  }
  print_figures(log, {{"hardware", a.model.model.hardware().name()},
                      {"model", a.model.name},
                      {"task", a.job.name}});
}

struct scatter_options {
  std::string file;
  std::string runs;
  std::string hardware;
  std::string model;
  std::string predicted_column = "predicted_j";
  std::string measured_column = "measured_j";
  std::string group_column;
  std::string title;
};

std::vector<plot::prediction_pair> read_pairs(const scatter_options& o) {
  const io::csv_table t = io::csv_table::read(o.file);
  const std::size_t pc = t.require_column(o.predicted_column);
  const std::size_t mc = t.require_column(o.measured_column);
  std::optional<std::size_t> gc;
  if (!o.group_column.empty()) gc = t.require_column(o.group_column);
  std::vector<plot::prediction_pair> pairs;
  for (std::size_t r = 0; r < t.size(); ++r) {
    plot::prediction_pair p{t.number(r, pc), t.number(r, mc), gc ? t.text(r, *gc) : ""};
    if (!(p.predicted_j > 0)) throw t.cell_error(r, pc, "must be a positive energy in joules");
    if (!(p.measured_j > 0)) throw t.cell_error(r, mc, "must be a positive energy in joules");
    pairs.push_back(std::move(p));
  }
  if (pairs.empty()) throw invalid_input(fmt::format("{}: no rows to plot", o.file));
  return pairs;
}

/// Predicts the runs of `runs_file` measured on the model's hardware; groups by data set.
std::vector<plot::prediction_pair> predict_pairs(const scatter_options& o, std::string& title) {
  if (o.hardware.empty())
    throw invalid_input("--runs: give --hardware (and --model or a fitted preset)");
  const resolved_model m = resolve_model(o.model, o.hardware);
  const std::vector<std::string> files = {o.runs};
  std::vector<plot::prediction_pair> pairs;
  for (const io::measured_run& r :
       io::runs_for_hardware(io::read_runs(o.runs), m.model.hardware(), "", false, files)) {
    if (!r.ok || !r.energy_j || !(*r.energy_j > 0)) continue;
    pairs.push_back({m.model.predict(mlp<float>(r.inputs, r.widths), r.run).total_j, *r.energy_j,
                     r.dataset.empty() ? std::string("runs") : r.dataset});
  }
  if (pairs.empty())
    throw invalid_input(fmt::format("--runs: {} has no measured run on hardware '{}'", o.runs,
                                    m.model.hardware().name()));
  title = fmt::format("{} on {} (model: {})", std::filesystem::path(o.runs).filename().string(),
                      m.model.hardware().name(), m.name);
  return pairs;
}

void run_plot_scatter(const scatter_options& o, const plot_common& p) {
  if (o.file.empty() == o.runs.empty())
    throw invalid_input("plot scatter: give a predictions CSV file, or --runs with --hardware");
  std::string title = std::filesystem::path(o.file).filename().string();
  const auto pairs = o.file.empty() ? predict_pairs(o, title) : read_pairs(o);
  if (!o.title.empty()) title = o.title;
  figure_log log(p.json);
  log.add(plot::prediction_scatter(pairs, title, settings_of(p),
                                   p.name.empty() ? "predicted_vs_measured" : p.name));
  print_figures(log, {{"title", title}, {"points", pairs.size()}});
}

}  // namespace

void write_demo_plots(const std::vector<energy_model<double>>& models,
                      const std::vector<io::measured_run>& runs,
                      const std::filesystem::path& directory, figure_log& log) {
  if (!log.is_json())
    fmt::print(
        "\n== Figures (gnuplot; each with its data and script, restyle and re-render freely)\n");
  plot::plot_settings settings;
  settings.directory = directory;
  const dataset_info& d = dataset_named("201_pol");
  const task job{d.inputs, d.outputs, butter_run(d), std::string(d.name)};
  const std::vector<int> depths = {2, 4, 8, 16};
  const std::vector<shape> shapes = {shape::rectangle};
  const std::vector<std::int64_t> sizes = parse_sizes("2^5..2^24:2");
  for (const energy_model<double>& m : models) {
    const advisor adv(m, job.inputs, job.outputs, job.run);
    const auto sweeps = sweep_all(adv, shapes, depths, sizes);
    const std::string name = m.hardware().name();
    // The runs measured on the model's hardware (none: no overlay, no scatter).
    std::vector<io::measured_run> mine;
    try {
      mine = io::runs_for_hardware(runs, m.hardware(), "", false, {});
    } catch (const invalid_input&) {
    }
    const auto measured = measured_overlay(sweeps, job, mine);
    log.add(plot::energy_curves(
        sweeps, m.hardware(),
        fmt::format("Energy per training example, {}, 201_pol: fitted model (lines), measured "
                    "runs (circles)",
                    name),
        settings, fmt::format("energy_per_example_{}", name), measured));
    log.add(plot::energy_breakdown(
        sweeps[1], m.hardware(),
        fmt::format("Where the predicted energy goes: {}, {}, 201_pol", sweeps[1].label(), name),
        settings, fmt::format("energy_breakdown_{}", name)));
    std::vector<plot::prediction_pair> pairs;
    for (const io::measured_run& r : mine) {
      if (!r.ok || !r.energy_j || !(*r.energy_j > 0)) continue;
      pairs.push_back({m.predict(mlp<float>(r.inputs, r.widths), r.run).total_j, *r.energy_j,
                       r.dataset.empty() ? std::string("runs") : r.dataset});
    }
    if (!pairs.empty())
      log.add(plot::prediction_scatter(
          pairs, fmt::format("{}, in-sample (the runs it was fitted on)", name), settings,
          fmt::format("predicted_vs_measured_{}", name)));
  }
}

void add_advise_commands(CLI::App& app) {
  {
    auto opts = std::make_shared<advise_options>();
    auto budget = std::make_shared<double>(0);
    auto json = std::make_shared<bool>(false);
    auto footprint = std::make_shared<footprint_options>();
    CLI::App* cmd = app.add_subcommand(
        "advise",
        "for each size: widths, where each working set lands, predicted energy and its shares; "
        "spill points; the sizes with the least energy per example; networks within a budget");
    add_advise_options(*cmd, *opts);
    cmd->add_option("--tolerance", opts->tolerance, "relative tolerance of the near-optimal sizes")
        ->capture_default_str();
    auto* budget_opt = cmd->add_option("--budget-j", *budget,
                                       "list the largest networks whose predicted energy per run "
                                       "fits this many joules");
    add_json_flag(*cmd, *json);
    add_footprint_options(*cmd, *footprint);
    cmd->callback([opts, budget, budget_opt, json, footprint] {
      run_advise(*opts, budget_opt->count() > 0 ? std::optional<double>(*budget) : std::nullopt,
                 *json, *footprint);
    });
  }
  CLI::App* plot_cmd = app.add_subcommand(
      "plot", "figures rendered with gnuplot (SVG and PNG), with their data and script");
  plot_cmd->require_subcommand(1);
  {
    auto opts = std::make_shared<advise_options>();
    auto common = std::make_shared<plot_common>();
    auto runs = std::make_shared<std::string>();
    CLI::App* cmd = plot_cmd->add_subcommand(
        "energy", "predicted energy per training example against parameters, with cache edges");
    add_advise_options(*cmd, *opts);
    add_plot_common(*cmd, *common);
    cmd->add_option(
        "--runs", *runs,
        "runs file (BUTTER-E or generic CSV): draw the measured runs of these networks");
    cmd->callback([opts, common, runs] { run_plot_energy(*opts, *common, *runs); });
  }
  {
    auto opts = std::make_shared<advise_options>();
    auto common = std::make_shared<plot_common>();
    CLI::App* cmd = plot_cmd->add_subcommand(
        "breakdown", "share of each term and memory level of the predicted energy, by size");
    add_advise_options(*cmd, *opts);
    add_plot_common(*cmd, *common);
    cmd->callback([opts, common] { run_plot_breakdown(*opts, *common); });
  }
  {
    auto opts = std::make_shared<scatter_options>();
    auto common = std::make_shared<plot_common>();
    CLI::App* cmd = plot_cmd->add_subcommand(
        "scatter", "predicted against measured energy with the ±10 % band (from a CSV file)");
    cmd->add_option("predictions", opts->file,
                    "CSV with a predicted and a measured energy per row (`wsenergy predict -o`)");
    cmd->add_option("--runs", opts->runs,
                    "instead: a runs file (BUTTER-E or generic) whose runs on --hardware are "
                    "predicted here, coloured by data set");
    cmd->add_option("--hardware", opts->hardware, "with --runs: the hardware (preset or JSON)");
    cmd->add_option("--model", opts->model, "with --runs: a model file (default: fitted preset)");
    cmd->add_option("--predicted-column", opts->predicted_column, "column of predictions (J)")
        ->capture_default_str();
    cmd->add_option("--measured-column", opts->measured_column, "column of measurements (J)")
        ->capture_default_str();
    cmd->add_option("--group-column", opts->group_column, "column whose values colour the points");
    cmd->add_option("--title", opts->title, "figure title (default: the file name)");
    add_plot_common(*cmd, *common);
    cmd->callback([opts, common] { run_plot_scatter(*opts, *common); });
  }
}

}  // namespace wsenergy::cli
