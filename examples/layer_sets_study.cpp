// A study of what explains the CPU error left by the working-set model: per-layer working sets.
//
// The reference model (hard placement, MODEL section 6) places whole-network sets: all parameters
// at the forward set's level, parameters and gradients at the backward set's level, and counts a
// fixed cost per layer-step wherever the layer lives. Its CPU residuals grow with depth: deep,
// narrow networks cost more than predicted. This program adds one working set per layer, the
// layer's weights and biases stacked on its own inter-layer activations (`l_i`), placed with the
// authors' rule, and gives the per-layer-step cost and the weight traffic one coefficient per
// level where that layer set lands. Both models are fitted as the exact non-negative least-squares
// solution of the relative-error problem and scored by 5-fold cross-validation (random folds and
// folds of whole data sets, the fitter's default seed).
//
// Usage: layer_sets_study [data/butter_e/runs.csv]
// Exit status 1 when the layer sets do not improve the CPU model (so the claim stays checked).

#include <Eigen/Dense>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "wsenergy/fit/evaluate.hpp"
#include "wsenergy/fit/nnls.hpp"
#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/wsenergy.hpp"

namespace {

using namespace wsenergy;

struct row {
  std::vector<double> reference;  // term counts (epoch dropped: constant here) + bytes per level
  std::vector<double> layered;    // the same with per-layer sets
  double energy_j = 0;
};

row design(const hierarchy& h, const io::measured_run& r) {
  const mlp<float> net(r.inputs, r.widths);
  const run_counts c = analyze_run(h, net, r.run).counts;
  const std::size_t n = h.size();
  row out;
  out.energy_j = *r.energy_j;
  const auto t = term_counts(c);
  for (std::size_t j = 0; j < t.size(); ++j)
    if (all_terms[j] != term::epoch) out.reference.push_back(t[j]);
  for (std::size_t k = 0; k < n; ++k) out.reference.push_back(c.bytes_by_level[k]);

  // Per-layer sets: where each layer's weights land on top of its activations.
  std::vector<double> layer_steps(n, 0), layer_bytes(n, 0);
  const auto full = net.full_widths();
  const auto batch = static_cast<std::uint64_t>(r.run.batch);
  for (std::size_t i = 1; i < full.size(); ++i) {
    const auto a = static_cast<std::uint64_t>(full[i - 1]);
    const auto b = static_cast<std::uint64_t>(full[i]);
    const placement activations = place(h.levels(), placement{}, inter_layer_demand(a, b, batch, 4));
    const std::uint64_t weights = 4 * (a + 1) * b;
    const placement layer = place(h.levels(), activations, {weights, 0});
    layer_steps[layer.level] += 1;
    layer_bytes[layer.level] += static_cast<double>(weights);
  }
  out.layered = {1.0, c.train_steps, c.eval_steps, c.operations};
  for (std::size_t k = 0; k < n; ++k) out.layered.push_back(layer_steps[k] * c.train_steps);
  for (std::size_t k = 0; k < n; ++k) out.layered.push_back(layer_steps[k] * c.eval_steps);
  for (std::size_t k = 0; k < n; ++k) out.layered.push_back(c.bytes_by_level[k]);
  for (std::size_t k = 0; k < n; ++k) out.layered.push_back(layer_bytes[k] * c.train_steps);
  return out;
}

/// Exact relative-error fit: rows divided by the energy, columns by their largest value.
Eigen::VectorXd fit(const std::vector<const std::vector<double>*>& x, const std::vector<double>& e) {
  const auto m = static_cast<Eigen::Index>(x.size());
  const auto n = static_cast<Eigen::Index>(x.front()->size());
  Eigen::MatrixXd a(m, n);
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index j = 0; j < n; ++j) a(i, j) = (*x[i])[j] / e[i];
  Eigen::VectorXd scale = a.cwiseAbs().colwise().maxCoeff().transpose();
  for (Eigen::Index j = 0; j < n; ++j)
    if (scale(j) > 0) a.col(j) /= scale(j);
    else scale(j) = 1;
  return fit::nnls(a, Eigen::VectorXd::Ones(m)).x.cwiseQuotient(scale);
}

fit::accuracy cross_validate(const std::vector<row>& rows, bool layered,
                             const std::vector<int>& folds) {
  std::vector<double> predicted(rows.size()), measured(rows.size());
  for (int f = 0; f < 5; ++f) {
    std::vector<const std::vector<double>*> x;
    std::vector<double> e;
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (folds[i] != f) {
        x.push_back(layered ? &rows[i].layered : &rows[i].reference);
        e.push_back(rows[i].energy_j);
      }
    const Eigen::VectorXd c = fit(x, e);
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (folds[i] == f) {
        const auto& v = layered ? rows[i].layered : rows[i].reference;
        predicted[i] = Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()))
                           .dot(c);
      }
  }
  for (std::size_t i = 0; i < rows.size(); ++i) measured[i] = rows[i].energy_j;
  return fit::score(predicted, measured);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string file = argc > 1 ? argv[1] : WSENERGY_EXAMPLE_DATA_DIR "/butter_e/runs.csv";
  const auto runs = io::read_runs(file);
  bool improved = true;
  for (const auto& [name, gpu, h] : {std::tuple{"CPU", 0, hierarchy(presets::eagle_cpu)},
                                     std::tuple{"GPU", 1, hierarchy(presets::eagle_gpu)}}) {
    std::vector<io::measured_run> mine;
    for (const auto& r : runs)
      if (r.is_gpu == gpu) mine.push_back(r);
    const auto obs = fit::prepare(h, mine);  // validates the runs; gives data sets for the folds
    std::vector<row> rows;
    for (const auto& r : mine) rows.push_back(design(h, r));
    fmt::print("{} node, {} runs, hard placement, exact NNLS fit, 5-fold cross-validation\n", name,
               rows.size());
    fmt::print("  {:<34} {:>8} {:>8} {:>11}\n", "model (folds)", "MAPE", "median", "within 10%");
    double reference_mape = 0, layered_mape = 0;
    for (auto grouping : {fit::fold_grouping::random, fit::fold_grouping::by_dataset}) {
      const auto folds = fit::assign_folds(obs, 5, grouping, 240308151);
      for (bool layered : {false, true}) {
        const fit::accuracy a = cross_validate(rows, layered, folds);
        fmt::print("  {:<34} {:>7.2f}% {:>7.2f}% {:>10.1f}%\n",
                   fmt::format("{} ({})", layered ? "with per-layer sets" : "reference",
                               to_string(grouping)),
                   100 * a.mape, 100 * a.median_ape, 100 * a.within_10);
        if (grouping == fit::fold_grouping::random) (layered ? layered_mape : reference_mape) = a.mape;
      }
    }
    if (gpu == 0 && !(layered_mape < reference_mape)) improved = false;
  }
  return improved ? 0 : 1;
}
