#pragma once
// Models with fixed coefficients for the tests of the advisor and the plots (not fitted ones,
// which change whenever the presets are refitted).

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <string_view>

#include <catch2/catch.hpp>

#include "wsenergy/energy_model.hpp"

namespace wsenergy::test {

/// Coefficients set here (not fitted ones, which may change) for every slot of `form` on `h`: a
/// per-run cost, per-step launch costs, a cost per operation, per-byte costs that grow eightfold
/// per level, and small costs for the terms of the host forms (layer-size curve, dispatches, ...).
inline energy_model<double> test_model(const hierarchy& h, const model_form& form = {}) {
  struct coefficient {
    std::string_view term;
    double first;   ///< slot 0 of the term
    double growth;  ///< factor from one slot of the term to the next (level, curve knot)
  };
  static constexpr coefficient table[] = {{"run", 5000, 1},
                                          {"epoch", 2, 1},
                                          {"train_step", 0.05, 1},
                                          {"eval_step", 0.03, 1},
                                          {"layer_train_step", 0.004, 1},
                                          {"layer_eval_step", 0.002, 1},
                                          {"kappa", 0.001, 1.5},
                                          {"operations", 1e-10, 1},
                                          {"hinge", 3e-11, 1},
                                          {"bytes", 1e-12, 8},
                                          {"dsbytes", 2e-10, 1},
                                          {"par", 1e-4, 1},
                                          {"ep", 1e-6, 1},
                                          {"layer_set_steps", 0.004, 2},
                                          {"layer_set_bytes", 1e-12, 8}};
  std::array<double, max_slots> c{};
  for (std::size_t s : active_slots(form.terms, h.size())) {
    const std::size_t t = slot_term(s);
    const auto k = static_cast<double>(s - term_slot_offset[t]);
    const auto it = std::find_if(std::begin(table), std::end(table), [&](const coefficient& x) {
      return x.term == term_table[t].name;
    });
    REQUIRE(it != std::end(table));
    c[s] = it->first * std::pow(it->growth, k);
  }
  return energy_model<double>(h, form, c);
}

/// A host form of docs/model.md section 8: the term set with training-only traffic.
inline model_form host_form(term_set terms) {
  model_form f;
  f.terms = terms;
  f.accounting = traffic_accounting::training_only();
  return f;
}

}  // namespace wsenergy::test
