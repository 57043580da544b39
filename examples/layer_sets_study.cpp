// The per-layer working sets (each layer's weights placed on its own activations, with per-level
// layer-step and weight-byte costs) as an optional term set of the model: `term_sets::layer_sets`
// against the reference form of docs/model.md section 6, both with hard placement and the
// fitter's defaults, by 5-fold cross-validation on the shipped sample.
//
// Usage: layer_sets_study [data/butter_e/runs.csv]
// Exit status 1 when the layer sets do not improve the CPU model (so the claim stays checked).

#include <fmt/format.h>

#include "wsenergy/fit/evaluate.hpp"
#include "wsenergy/io/butter_e.hpp"
#include "wsenergy/presets.hpp"

int main(int argc, char** argv) {
  using namespace wsenergy;
  const auto runs = io::read_runs(argc > 1 ? argv[1] : WSENERGY_EXAMPLE_DATA_DIR "/butter_e/runs.csv");
  double mape[2][2] = {};
  for (int gpu : {0, 1}) {
    const hierarchy h = gpu ? hierarchy(presets::eagle_gpu) : hierarchy(presets::eagle_cpu);
    std::vector<io::measured_run> mine;
    for (const auto& r : runs)
      if (r.is_gpu == gpu) mine.push_back(r);
    const auto obs = fit::prepare(h, mine);
    for (int layered : {0, 1}) {
      fit::fit_options o;
      o.form.terms = layered ? term_sets::layer_sets : term_sets::reference;
      const auto cv = fit::cross_validate(h, obs, o, 5, fit::fold_grouping::random);
      mape[gpu][layered] = cv.model.mape;
      fmt::print("{} {:<20} 5-fold MAPE {:6.2f} %  within 10 % {:5.1f} %\n", gpu ? "GPU" : "CPU",
                 layered ? "layer-sets" : "reference", 100 * cv.model.mape, 100 * cv.model.within_10);
    }
  }
  return mape[0][1] < mape[0][0] ? 0 : 1;
}
