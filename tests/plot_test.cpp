// Figures: the data and gnuplot scripts written for each plot, rendering where gnuplot exists,
// and the path where it does not (tested by pointing at a gnuplot that is not there).
#include "wsenergy/plot.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "wsenergy/datasets.hpp"
#include "wsenergy/presets.hpp"

using namespace wsenergy;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

energy_model<double> test_model(const hierarchy& h) {
  energy_model<double> m{h, {}, {}};
  m.coeffs.levels = h.size();
  const double per_unit[] = {5000, 2, 0.05, 0.03, 0.004, 0.002, 1e-10};
  for (std::size_t t = 0; t < scalar_terms; ++t) m.coeffs.per_unit_j[t] = per_unit[t];
  for (std::size_t l = 0; l < h.size(); ++l) m.coeffs.per_byte_j[l] = 1e-12 * double(1 << (3 * l));
  return m;
}

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
  const fs::path d = fs::temp_directory_path() /
                     ("wsenergy-plot-test-" + std::to_string(::getpid()) + "-" +
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
  return sweep_all(a, std::vector<shape>{shape::rectangle, shape::trapezoid},
                   std::vector<int>{3}, parse_sizes("2^5..2^24"));
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
  CHECK_THAT(script, Contains("'L3 full (6758400 params)'"));
  CHECK_THAT(script, Contains("set output stem.'.png'"));
  check_rendered_or_explained(out);
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
  CHECK_THAT(script, Contains("test fit: mean abs. error 21.0 %, 50.0 % of 4 runs within ±10 %"));
  CHECK_THAT(script, Contains("(0.9*$1):(1.1*$1) with filledcurves"));
  CHECK_THAT(script, Contains("'eagle_cpu (2 runs)'"));
  CHECK_THAT(script, Contains("set logscale xy 10"));
  CHECK_THAT(script, Contains("set xlabel 'measured energy per run (J, log scale)'"));
  const std::string data = slurp(out.data_file);
  CHECK_THAT(data, Contains("# eagle_cpu\n1000 1080\n10 15\n\n\n# eagle_gpu\n100 95\n10000 7900\n"));
  check_rendered_or_explained(out);
}

TEST_CASE("bad scatter input names the pair", "[plot]") {
  plot::plot_settings s;
  s.directory = fresh_dir("bad");
  CHECK_THROWS_WITH(plot::prediction_scatter({}, "x", s), "plot: no (predicted, measured) pairs to plot");
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
  CHECK(plot::detail::size_label(1024) == "2^{10}");
  CHECK(plot::detail::size_label(1000) == "1000");
}
