// Fuzzes the command-template expander: the input is a template (arguments separated by NUL
// bytes); it is checked, then expanded for a fixed configuration. Every placeholder is either
// replaced or an error; no argument is ever split or lost.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "wsenergy/measure/sweep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> tmpl;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == '\0') {
      tmpl.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  static const auto config = [] {
    wsenergy::measure::run_config c;
    c.run.run_id = "r1";
    c.run.dataset = "mnist";
    c.run.inputs = 784;
    c.run.widths = {64, 64, 10};
    c.run.run.train_examples = 56000;
    c.run.run.eval_examples = 14000;
    c.run.run.batch = 256;
    c.run.run.epochs = 3;
    c.shape = "rectangle";
    c.size = 55000;
    return c;
  }();
  try {
    wsenergy::measure::check_template(tmpl);
    const auto argv = wsenergy::measure::expand_template(tmpl, config);
    if (argv.size() != tmpl.size()) std::abort();
  } catch (const wsenergy::invalid_input&) {
  }
  return 0;
}
