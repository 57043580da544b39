// Figures: the data and gnuplot scripts written for each plot, rendering where gnuplot exists,
// and the path where it does not (tested by pointing at a gnuplot that is not there).
#include "wsenergy/plot.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "wsenergy/datasets.hpp"
#include "wsenergy/presets.hpp"
#include "model_support.hpp"

using namespace wsenergy;
using Catch::Matchers::Contains;
using test::host_form;
using test::test_model;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Removes the directories the tests made when the program ends.
struct scratch_dirs {
  std::vector<fs::path> made;
  ~scratch_dirs() {
    std::error_code ec;
    for (const auto& d : made) fs::remove_all(d, ec);
  }
};

/// A fresh directory under the system's temporary folder.
fs::path fresh_dir(const std::string& name) {
  static scratch_dirs dirs;
  const fs::path d =
      fs::temp_directory_path() / ("wsenergy-plot-test-" + std::to_string(::getpid()) + "-" +
                                   std::to_string(dirs.made.size()) + "-" + name);
  fs::remove_all(d);
  dirs.made.push_back(d);
  return d;
}

/// Whether a gnuplot runs here (the rendering checks need one; the others must pass without).
bool have_gnuplot() {
  return plot::detail::find_program(plot::detail::gnuplot_program({})).has_value();
}

std::vector<sweep_result> cpu_sweeps(const hierarchy& h) {
  const dataset_info& d = dataset_named("mnist");
  const advisor a(test_model(h), d.inputs, d.outputs, butter_run(d));
  return sweep_all(a, std::vector<shape>{shape::rectangle, shape::trapezoid}, std::vector<int>{3},
                   parse_sizes("2^5..2^24"));
}

/// Checks that the images exist and look like SVG and PNG, or that the message explains.
void check_rendered_or_explained(const plot::plot_output& out) {
  if (have_gnuplot()) {
    INFO(out.message);
    REQUIRE(out.rendered);
    REQUIRE(out.images.size() == 2);
    CHECK(out.images[0].extension() == ".svg");
    CHECK(slurp(out.images[0]).find("<svg") != std::string::npos);
    const std::string png = slurp(out.images[1]);
    CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    // No temporary image is left behind.
    for (const auto& entry : fs::directory_iterator(out.data_file.parent_path()))
      CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
  } else {
    CHECK_FALSE(out.rendered);
    CHECK_THAT(out.message, Contains("gnuplot not found"));
  }
}

}  // namespace

TEST_CASE("energy curves: one block per sweep, cache edges as vertical lines", "[plot]") {
  const hierarchy h(presets::eagle_cpu);
  const auto sweeps = cpu_sweeps(h);
  plot::plot_settings s;
  s.directory = fresh_dir("curves");
  const plot::plot_output out = plot::energy_curves(sweeps, h, "eagle_cpu, test model", s);
  CHECK(out.data_file == s.directory / "energy_per_example.dat");
  CHECK(out.script_file == s.directory / "energy_per_example.gp");
  const std::string data = slurp(out.data_file);
  const std::string script = slurp(out.script_file);
  // Every predicted size of both sweeps is in the data, with its energy per example.
  for (const auto& sw : sweeps) {
    CHECK_THAT(data, Contains("# " + sw.label()));
    for (const auto& e : sw.evaluations)
      if (e.ok())
        CHECK_THAT(data, Contains(fmt::format("{} {} {:.9g} ", e.target_parameters, e.parameters,
                                              e.energy_per_example_j)));
  }
  CHECK_THAT(script, Contains("index 1 using 2:3"));
  CHECK_THAT(script, Contains("title 'trapezoid, depth 3' noenhanced"));
  CHECK_THAT(script, Contains("set logscale x 2"));
  CHECK_THAT(script, Contains("set xlabel 'parameters (log scale)'"));
  CHECK_THAT(script, Contains("set ylabel 'predicted energy per training example (J, log scale)'"));
  // The L1d, L2 and L3 edges of eagle_cpu in parameters: C_k / 4 bytes.
  CHECK_THAT(script, Contains("set arrow 1 from 8192, graph 0"));
  CHECK_THAT(script, Contains("set arrow 2 from 270336, graph 0"));
  CHECK_THAT(script, Contains("set label 3 'L3' at 6.7584e+06, graph 1"));
  CHECK_THAT(script, Contains("set output stem.'.png'"));
  check_rendered_or_explained(out);
}

TEST_CASE("measured series are drawn as points in the colour of their curve", "[plot]") {
  const hierarchy h(presets::eagle_cpu);
  const auto sweeps = cpu_sweeps(h);
  plot::plot_settings s;
  s.directory = fresh_dir("measured");
  s.gnuplot = "/nonexistent/gnuplot";
  const std::vector<plot::measured_series> measured = {
      {1, "measured: trapezoid, depth 3 (2 runs)", {{5000, 0.002}, {20000, 0.003}}}};
  const plot::plot_output out = plot::energy_curves(sweeps, h, "t", s, "overlay", measured);
  const std::string data = slurp(out.data_file);
  CHECK_THAT(data, Contains("\n\n# measured: trapezoid, depth 3 (2 runs)\n5000 5000 0.002 - -\n"
                            "20000 20000 0.003 - -\n"));
  const std::string script = slurp(out.script_file);
  // Block 2 (after the two curves), in the trapezoid curve's colour.
  CHECK_THAT(script, Contains("'overlay.dat' index 2 using 2:3 with points pt 6 ps 1.5 lw 2 lc rgb "
                              "'#D55E00' title 'measured: trapezoid, depth 3 (2 runs)'"));
  CHECK_THAT(script, Contains("set ylabel 'energy per training example (J, log scale)'"));
  const std::vector<plot::measured_series> bad = {{0, "bad", {{5000, -1}}}};
  CHECK_THROWS_WITH(plot::energy_curves(sweeps, h, "t", s, "overlay", bad),
                    "plot: measured series 'bad': point (5000, -1) must be positive and finite");
}

TEST_CASE("a missing gnuplot still writes the data and the script, and says how to render",
          "[plot]") {
  const hierarchy h(presets::eagle_gpu);
  const auto sweeps = cpu_sweeps(h);
  plot::plot_settings s;
  s.directory = fresh_dir("missing");
  s.gnuplot = "/nonexistent/bin/gnuplot";
  const plot::plot_output out = plot::energy_curves(sweeps, h, "no gnuplot", s);
  CHECK_FALSE(out.rendered);
  CHECK(out.images.empty());
  CHECK(fs::exists(out.data_file));
  CHECK(fs::exists(out.script_file));
  CHECK_FALSE(fs::exists(s.directory / "energy_per_example.svg"));
  CHECK_THAT(out.message, Contains("gnuplot not found (looked for '/nonexistent/bin/gnuplot')"));
  CHECK_THAT(out.message, Contains("Debian: gnuplot-nox"));
  CHECK_THAT(out.message,
             Contains("cd " + s.directory.string() + " && gnuplot energy_per_example.gp"));
}

TEST_CASE("WSENERGY_GNUPLOT chooses the program when the settings do not", "[plot]") {
  ::setenv("WSENERGY_GNUPLOT", "wsenergy-no-such-gnuplot", 1);
  CHECK(plot::detail::gnuplot_program({}) == "wsenergy-no-such-gnuplot");
  plot::plot_settings s;
  s.directory = fresh_dir("env");
  const std::vector<plot::prediction_pair> pairs = {{110, 100, "cpu"}, {95, 100, "cpu"}};
  const plot::plot_output out = plot::prediction_scatter(pairs, "env", s);
  ::unsetenv("WSENERGY_GNUPLOT");
  CHECK_FALSE(out.rendered);
  CHECK_THAT(out.message, Contains("looked for 'wsenergy-no-such-gnuplot'"));
  CHECK(fs::exists(out.script_file));
  s.gnuplot = "explicit";
  CHECK(plot::detail::gnuplot_program(s) == "explicit");
}

TEST_CASE("a gnuplot that fails leaves no images and reports its error", "[plot]") {
  plot::plot_settings s;
  s.directory = fresh_dir("fails");
  s.gnuplot = "/bin/false";
  const std::vector<plot::prediction_pair> pairs = {{110, 100, ""}};
  const plot::plot_output out = plot::prediction_scatter(pairs, "fails", s);
  CHECK_FALSE(out.rendered);
  CHECK_THAT(out.message, Contains("gnuplot (/bin/false) failed with status 1"));
  CHECK(fs::exists(out.data_file));
  CHECK_FALSE(fs::exists(s.directory / "predicted_vs_measured.png"));
}

TEST_CASE("the scatter reports the error and the share within 10 %, per group", "[plot]") {
  plot::plot_settings s;
  s.directory = fresh_dir("scatter");
  // Errors: +8 %, -5 %, +50 %, -21 %: mean 21 %, two of four within 10 %.
  const std::vector<plot::prediction_pair> pairs = {{1080, 1000, "eagle_cpu"},
                                                    {95, 100, "eagle_gpu"},
                                                    {15, 10, "eagle_cpu"},
                                                    {7900, 10000, "eagle_gpu"}};
  const plot::plot_output out = plot::prediction_scatter(pairs, "test fit", s);
  const std::string script = slurp(out.script_file);
  CHECK_THAT(script, Contains("set title 'test fit'.\"\\n\".'mean absolute error 21.0 %, 50.0 % of "
                              "4 runs within ±10 %' noenhanced"));
  CHECK_THAT(script, Contains("(0.9*$1):(1.1*$1) with filledcurves"));
  CHECK_THAT(script, Contains("'eagle_cpu (2 runs)'"));
  CHECK_THAT(script, Contains("set logscale xy 10"));
  CHECK_THAT(script, Contains("set xlabel 'measured energy per run (J, log scale)'"));
  const std::string data = slurp(out.data_file);
  CHECK_THAT(data,
             Contains("# eagle_cpu\n1000 1080\n10 15\n\n\n# eagle_gpu\n100 95\n10000 7900\n"));
  CHECK_THAT(script, Contains("'eagle_gpu (2 runs)'"));
  check_rendered_or_explained(out);
}

TEST_CASE("bad scatter input names the pair", "[plot]") {
  plot::plot_settings s;
  s.directory = fresh_dir("bad");
  CHECK_THROWS_WITH(plot::prediction_scatter({}, "x", s),
                    "plot: no (predicted, measured) pairs to plot");
  const std::vector<plot::prediction_pair> pairs = {{1, 1, ""}, {2, 0, ""}};
  CHECK_THROWS_WITH(plot::prediction_scatter(pairs, "x", s),
                    "plot: pair 2: predicted 2 J, measured 0 J: both must be positive and finite");
  CHECK_FALSE(fs::exists(s.directory / "predicted_vs_measured.dat"));
}

TEST_CASE("the breakdown's shares add up to 100 % at every size", "[plot]") {
  const hierarchy h(presets::eagle_cpu);
  const auto sweeps = cpu_sweeps(h);
  plot::plot_settings s;
  s.directory = fresh_dir("breakdown");
  const plot::plot_output out = plot::energy_breakdown(sweeps[0], h, "rectangle, depth 3", s);
  std::istringstream data(slurp(out.data_file));
  std::string line;
  std::size_t rows = 0;
  while (std::getline(data, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t close = line.find('"', 1);
    REQUIRE(close != std::string::npos);
    std::istringstream values(line.substr(close + 1));
    double v = 0;
    double sum = 0;
    while (values >> v) sum += v;
    CHECK(sum == Approx(100).epsilon(1e-4));
    ++rows;
  }
  std::size_t predicted = 0;
  for (const auto& e : sweeps[0].evaluations) predicted += e.ok() ? 1 : 0;
  CHECK(rows == predicted);
  const std::string text = slurp(out.data_file);
  CHECK_THAT(text, Contains("\"2^{24} DRAM\""));  // 64 MiB of parameters are served by DRAM
  const std::string script = slurp(out.script_file);
  CHECK_THAT(script, Contains("set style histogram rowstacked"));
  CHECK_THAT(script, Contains("title 'L2 traffic'"));
  CHECK_THAT(script, Contains("set ylabel 'share of predicted energy per run (%)'"));
  check_rendered_or_explained(out);
}

TEST_CASE("the breakdown's parts come from the term table and add up to the total", "[plot]") {
  const dataset_info& d = dataset_named("201_pol");
  for (const hierarchy& h : {hierarchy(presets::eagle_cpu), hierarchy(presets::eagle_gpu)})
    for (const model_form& form :
         {model_form{}, host_form(term_sets::host_cpu), host_form(term_sets::host_gpu),
          host_form(term_sets::layer_sets)}) {
      const advisor a(test_model(h, form), d.inputs, d.outputs, butter_run(d));
      const sweep_result r = a.sweep(shape::rectangle, 3, parse_sizes("2^5..2^24"));
      std::size_t predicted = 0;
      for (const candidate_evaluation& e : r.evaluations) {
        if (!e.ok()) continue;
        INFO(h.name() << " " << form.terms.names() << " size " << e.target_parameters);
        ++predicted;
        const std::vector<plot::breakdown_part> parts = plot::breakdown_parts(e.energy, h);
        // One part per group but memory, one per level, and the other memory terms.
        REQUIRE(parts.size() == all_term_groups.size() - 1 + h.size() + 1);
        double sum = 0;
        for (const plot::breakdown_part& p : parts) {
          CHECK(p.joules >= 0);
          sum += p.joules;
        }
        CHECK(sum == Approx(e.energy.total_j).epsilon(1e-12));
        CHECK(parts[0].name ==
              (form.terms.contains("epoch") ? "fixed (run, epoch)" : "fixed (run)"));
        CHECK(parts[0].joules == e.energy.group_j(term_group::fixed));
        CHECK(parts[all_term_groups.size() - 1].name == h.level_name(0) + " traffic");
        CHECK(parts.back().name ==
              (form.terms.contains("dsbytes") ? "memory (dsbytes)" : "memory (other)"));
        CHECK(parts.back().joules == e.energy.term_j("dsbytes"));
      }
      CHECK(predicted > 10);
    }
}

TEST_CASE("the breakdown of a host-gpu model names its groups and leaves out empty ones",
          "[plot]") {
  const hierarchy h(presets::eagle_gpu);
  const dataset_info& d = dataset_named("mnist");
  const advisor a(test_model(h, host_form(term_sets::host_gpu)), d.inputs, d.outputs,
                  butter_run(d));
  const sweep_result r = a.sweep(shape::rectangle, 3, parse_sizes("2^10..2^24"));
  plot::plot_settings s;
  s.directory = fresh_dir("breakdown-gpu");
  s.gnuplot = "/nonexistent/gnuplot";
  const plot::plot_output out = plot::energy_breakdown(r, h, "host-gpu", s);
  const std::string script = slurp(out.script_file);
  CHECK_THAT(script, Contains("title 'layers (kappa)'"));
  CHECK_THAT(script, Contains("title 'operations (operations, hinge)'"));
  CHECK_THAT(script, Contains("title 'memory (dsbytes)'"));
  CHECK_THAT(script, Contains("title 'HBM traffic'"));
  // host-gpu has no overhead term: an all-zero part is left out.
  CHECK_THAT(script, !Contains("overhead"));
  CHECK_THAT(slurp(out.data_file), Contains(" memory_(dsbytes)"));
}

TEST_CASE("nothing to plot is an error", "[plot]") {
  const hierarchy h(presets::eagle_cpu);
  const dataset_info& d = dataset_named("mnist");
  const advisor a(test_model(h), d.inputs, d.outputs, butter_run(d));
  // Every size below ~800 parameters is rejected for mnist (784 inputs).
  const std::vector<sweep_result> none = {a.sweep(shape::rectangle, 3, parse_sizes("2^5..2^8"))};
  plot::plot_settings s;
  s.directory = fresh_dir("none");
  CHECK_THROWS_WITH(plot::energy_curves(none, h, "x", s),
                    "plot: no size of the sweep has a prediction to plot");
  CHECK_THROWS_WITH(plot::energy_breakdown(none[0], h, "x", s),
                    "plot: no size of the sweep has a prediction to plot");
}

TEST_CASE("titles are quoted for gnuplot", "[plot]") {
  CHECK(plot::detail::quote("it's") == "'it''s'");
  CHECK(plot::detail::quote("a\nb") == "'a b'");
  // Single quotes only (gnuplot runs backticks inside double quotes); the line break between
  // them is the one double-quoted constant.
  CHECK(plot::detail::quote_lines("say \"hi\" `id`", "it's") ==
        "'say \"hi\" `id`'.\"\\n\".'it''s'");
  CHECK(plot::detail::size_label(1024) == "2^{10}");
  CHECK(plot::detail::size_label(1000) == "1000");
}

namespace {

/// Outside single-quoted strings (where gnuplot evaluates nothing), the only double-quoted
/// string of a script is the constant "\n": no user text can reach a backtick evaluation.
void check_no_double_quoted_text(const std::string& script) {
  std::istringstream lines(script);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line[0] == '#') continue;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (quoted) {
        if (line[i] == '\'' && i + 1 < line.size() && line[i + 1] == '\'')
          ++i;
        else if (line[i] == '\'')
          quoted = false;
        continue;
      }
      if (line[i] == '\'') {
        quoted = true;
      } else if (line[i] == '"') {
        INFO(line);
        CHECK(line.compare(i, 4, "\"\\n\"") == 0);
        i += 3;
      } else {
        CHECK(line[i] != '`');
      }
    }
    CHECK_FALSE(quoted);
  }
}

}  // namespace

TEST_CASE("hostile titles and labels and names never run a command in gnuplot",
          "[plot][security]") {
  const fs::path dir = fresh_dir("hostile");
  const fs::path marker = dir / "pwned";
  const std::string evil = "p`touch " + marker.string() + "`'\"$(touch " + marker.string() + ")";
  plot::plot_settings s;
  s.directory = dir;
  const hierarchy h(presets::eagle_cpu);
  const auto sweeps = cpu_sweeps(h);
  const std::vector<plot::prediction_pair> pairs = {{110, 100, evil}, {90, 100, "b"}};
  const std::vector<plot::plot_output> outs = {
      plot::energy_curves(sweeps, h, evil, s, "curves",
                          std::vector<plot::measured_series>{{0, evil, {{1000, 1e-3}}}}),
      plot::prediction_scatter(pairs, evil, s, "scatter"),
      plot::energy_breakdown(sweeps[0], h, evil, s, "breakdown")};
  for (const auto& out : outs) {
    INFO(out.script_file.string());
    check_no_double_quoted_text(slurp(out.script_file));
    if (have_gnuplot()) CHECK(out.rendered);
  }
  if (have_gnuplot()) {  // re-rendering the saved script runs nothing either
    const std::string again = "cd " + dir.string() + " && gnuplot scatter.gp 2>/dev/null";
    CHECK(std::system(again.c_str()) == 0);
  }
  CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("a figure name must be a plain file name", "[plot][errors][security]") {
  const fs::path dir = fresh_dir("names");
  plot::plot_settings s;
  s.directory = dir;
  s.gnuplot = "/nonexistent/gnuplot";
  const std::vector<plot::prediction_pair> pairs = {{110, 100, ""}};
  for (const std::string bad : {"../escape", "a/b", "..", "-x", ".hidden", "it's", "a`b`", ""})
    CHECK_THROWS_WITH(plot::prediction_scatter(pairs, "t", s, bad),
                      Contains("plot: figure name '" + bad + "': must be a plain file name"));
  CHECK_FALSE(fs::exists(dir.parent_path() / "escape.gp"));
  CHECK(plot::prediction_scatter(pairs, "t", s, "fit-2024_v1.2").script_file ==
        dir / "fit-2024_v1.2.gp");
}

// ------------------------------------------------------------------ the `plot` commands
#ifdef WSENERGY_CLI
#include "cli_support.hpp"
#include "wsenergy/io/model_json.hpp"

namespace {

using Catch::Matchers::StartsWith;
using wsenergy::test::check_cli_error;
using wsenergy::test::cli_result;
using wsenergy::test::run_cli;

std::string model_file(const hierarchy& h, const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path p = dir / (h.name() + ".json");
  io::write_model(p, test_model(h));
  return p.string();
}

const std::string task = " --shape rectangle,wide_first_4x --depth 4 --dataset 201_pol";

}  // namespace

TEST_CASE("plot energy without gnuplot writes data and script and says how to render",
          "[plot][cli]") {
  const fs::path dir = fresh_dir("cli-missing");
  const std::string model = model_file(hierarchy(presets::eagle_cpu), dir);
  for (const std::string& how : {std::string("--gnuplot /nonexistent/gnuplot"), std::string()}) {
    const cli_result r = run_cli("plot energy --hardware eagle-cpu --model " + model + task +
                                     " --out " + dir.string() + " " + how,
                                 how.empty() ? "WSENERGY_GNUPLOT=/nonexistent/gnuplot" : "");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Contains("energy_per_example.gp"));
    CHECK_THAT(r.err, StartsWith("wsenergy: note: gnuplot not found (looked for "
                                 "'/nonexistent/gnuplot')") &&
                          Contains("gnuplot energy_per_example.gp"));
    CHECK(fs::exists(dir / "energy_per_example.dat"));
    CHECK(fs::exists(dir / "energy_per_example.gp"));
    CHECK_FALSE(fs::exists(dir / "energy_per_example.png"));
  }
  CHECK_THAT(slurp(dir / "energy_per_example.dat"), Contains("# wide_first_4x, depth 4"));
}

TEST_CASE("plot energy and breakdown render where gnuplot exists", "[plot][cli]") {
  const fs::path dir = fresh_dir("cli-render");
  const std::string model = model_file(hierarchy(presets::eagle_gpu), dir);
  const cli_result energy = run_cli("plot energy --hardware eagle-gpu --model " + model + task +
                                    " --out " + dir.string());
  const cli_result breakdown = run_cli("plot breakdown --hardware eagle-gpu --model " + model +
                                       task + " --out " + dir.string());
  REQUIRE(energy.status == 0);
  REQUIRE(breakdown.status == 0);
  // Two sweeps: one breakdown figure for each.
  for (const char* stem :
       {"energy_breakdown_rectangle_depth4", "energy_breakdown_wide_first_4x_depth4"}) {
    CHECK(fs::exists(dir / (std::string(stem) + ".gp")));
    CHECK(fs::exists(dir / (std::string(stem) + ".dat")));
  }
  if (have_gnuplot()) {
    CHECK(energy.err.empty());
    CHECK_THAT(energy.out, Contains("energy_per_example.svg"));
    CHECK(fs::file_size(dir / "energy_per_example.png") > 1000);
    CHECK(fs::file_size(dir / "energy_breakdown_rectangle_depth4.svg") > 1000);
  } else {
    CHECK_THAT(energy.err, Contains("gnuplot not found"));
  }
}

TEST_CASE("plot energy --runs draws the measured runs of the plotted networks", "[plot][cli]") {
  const fs::path dir = fresh_dir("cli-runs");
  const std::string runs = std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv";
  const cli_result r = run_cli(
      "plot energy --hardware eagle-gpu --shape rectangle --depth 2 "
      "--dataset 201_pol --runs " +
      runs + " --out " + dir.string() + " --gnuplot /nonexistent/gnuplot");
  REQUIRE(r.status == 0);
  const std::string data = slurp(dir / "energy_per_example.dat");
  CHECK_THAT(data, Contains("# measured: rectangle, depth 2 ("));
  check_cli_error(
      "plot energy --hardware eagle-gpu --shape rectangle --depth 2 --inputs 3 "
      "--outputs 1 --observations 100 --runs " +
          runs + " --out " + dir.string(),
      "--runs: " + runs + " has no run of these networks on hardware 'eagle_gpu'");
}

TEST_CASE("plot scatter reads predictions from a CSV file", "[plot][cli]") {
  const fs::path dir = fresh_dir("cli-scatter");
  fs::create_directories(dir);
  const fs::path csv = dir / "predictions.csv";
  std::ofstream(csv) << "run_id,dataset,predicted_j,measured_j,error_pct\n"
                        "a,mnist,1100,1000,10\n"
                        "b,mnist,90,100,-10\n"
                        "c,201_pol,300,200,50\n";
  const cli_result r = run_cli("plot scatter " + csv.string() + " --group-column dataset --out " +
                               dir.string() + " --gnuplot /nonexistent/gnuplot --title 'test fit'");
  CHECK(r.status == 0);
  CHECK_THAT(slurp(dir / "predicted_vs_measured.dat"),
             Contains("# 201_pol\n200 300\n\n\n# mnist\n1000 1100\n100 90\n"));  // sorted
  CHECK_THAT(slurp(dir / "predicted_vs_measured.gp"), Contains("'201_pol (1 run)'"));
  CHECK_THAT(slurp(dir / "predicted_vs_measured.gp"),
             Contains("'test fit'.\"\\n\".'mean absolute error 23.3 %"));
}

TEST_CASE("plot scatter --runs predicts the runs of one hardware itself", "[plot][cli]") {
  const fs::path dir = fresh_dir("cli-scatter-runs");
  const std::string model = model_file(hierarchy(presets::eagle_cpu), dir);
  const std::string runs = std::string(WSENERGY_PROJECT_DATA_DIR) + "/butter_e/runs.csv";
  const cli_result r =
      run_cli("plot scatter --runs " + runs + " --hardware eagle-cpu --model " + model +
              " --name cpu_fit --out " + dir.string() + " --gnuplot /nonexistent/gnuplot");
  REQUIRE(r.status == 0);
  // The shipped sample has 2,478 CPU runs; the test model predicts each.
  const std::string script = slurp(dir / "cpu_fit.gp");
  CHECK_THAT(script, Contains("of 2478 runs within ±10 %"));
  CHECK_THAT(script, Contains("'mnist ("));
  check_cli_error("plot scatter --out " + dir.string(),
                  "plot scatter: give a predictions CSV file, or --runs with --hardware");
  check_cli_error("plot scatter --runs " + runs + " --out " + dir.string(),
                  "--runs: give --hardware");
  check_cli_error("plot scatter --runs " + runs + " --hardware h100 --out " + dir.string(),
                  "model: no fitted model ships for hardware 'h100'");
}

TEST_CASE("plot scatter names the file, line and column of bad input", "[plot][cli]") {
  const fs::path dir = fresh_dir("cli-scatter-bad");
  fs::create_directories(dir);
  const fs::path csv = dir / "bad.csv";
  std::ofstream(csv) << "run_id,predicted_j,measured_j\na,1100,1000\nb,90,-5\n";
  check_cli_error("plot scatter " + csv.string() + " --out " + dir.string(),
                  csv.string() +
                      ":3: column 'measured_j': must be a positive energy in joules "
                      "(value '-5')");
  check_cli_error(
      "plot scatter " + csv.string() + " --predicted-column energy --out " + dir.string(),
      csv.string() + ":1: the header has no column 'energy'");
  std::ofstream(csv) << "run_id,predicted_j,measured_j\na,1100,abc\n";
  check_cli_error("plot scatter " + csv.string() + " --out " + dir.string(),
                  csv.string() + ":2: column 'measured_j'");
  std::ofstream(csv) << "run_id,predicted_j,measured_j\n";
  check_cli_error("plot scatter " + csv.string() + " --out " + dir.string(), "no rows to plot");
  CHECK_FALSE(fs::exists(dir / "predicted_vs_measured.dat"));
}

TEST_CASE("plot commands reject unknown hardware, shapes and empty size ranges", "[plot][cli]") {
  const fs::path dir = fresh_dir("cli-bad");
  check_cli_error("plot energy --hardware nope" + task, "hardware: 'nope' is neither a preset");
  check_cli_error("plot energy --hardware eagle-cpu --shape blob --depth 3 --dataset mnist",
                  "shape: unknown shape 'blob'");
  check_cli_error("plot breakdown --hardware eagle-cpu" + task + " --sizes 2^9..2^8",
                  "sizes: '2^9..2^8' in '2^9..2^8': empty range");
  check_cli_error(
      "plot energy --hardware eagle-cpu --shape rectangle --depth 3 --dataset mnist "
      "--sizes 2^5..2^8 --out " +
          dir.string(),
      "plot: no size of the sweep has a prediction to plot");
  CHECK_FALSE(fs::exists(dir / "energy_per_example.dat"));
}
#endif  // WSENERGY_CLI

#ifdef WSENERGY_CLI
TEST_CASE("plot: a runs file named with backticks and --name and a failing gnuplot",
          "[plot][cli][security]") {
  const fs::path dir = fresh_dir("cli-hostile");
  fs::create_directories(dir);
  const fs::path marker = dir / "X";  // gnuplot runs in the plot folder
  // The default title is the file name.
  const fs::path csv = dir / "p`touch X`.csv";
  std::ofstream(csv) << "run_id,predicted_j,measured_j\na,1100,1000\nb,90,100\n";
  const std::string quoted = "'" + csv.string() + "'";
  const cli_result r = run_cli("plot scatter " + quoted + " --out " + dir.string());
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK_FALSE(fs::exists(marker));
  const cli_result titled = run_cli("plot scatter " + quoted + " --out " + dir.string() +
                                    " --title 'a\"`touch X`'");
  CHECK(titled.status == 0);
  CHECK_FALSE(fs::exists(marker));
  check_cli_error("plot scatter " + quoted + " --out " + dir.string() + " --name ../up",
                  "plot: figure name '../up': must be a plain file name");
  check_cli_error("plot scatter " + quoted + " --out " + dir.string() + " --gnuplot /bin/false",
                  "gnuplot (/bin/false) failed with status 1");
}
#endif
