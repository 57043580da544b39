// The program scripts/cachegrind_check.sh runs under cachegrind: the built-in trainer
// (include/wsenergy/measure/trainer.hpp) for one network, built on its own with -O2 -mavx2 -mfma
// because valgrind 3.19 cannot run AVX-512 code.
// Usage: cachegrind_train INPUTS "W1 W2 ... OUT" TRAIN_EXAMPLES EVAL_EXAMPLES BATCH EPOCHS
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "wsenergy/measure/sweep.hpp"
#include "wsenergy/measure/trainer.hpp"

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s INPUTS \"W1 ... OUT\" TRAIN EVAL BATCH EPOCHS\n", argv[0]);
    return 2;
  }
  try {
    wsenergy::measure::trainer_config c;
    c.inputs = std::stoll(argv[1]);
    c.widths = wsenergy::measure::parse_widths(argv[2], "widths");
    c.train_examples = std::stoll(argv[3]);
    c.eval_examples = std::stoll(argv[4]);
    c.batch = std::stoll(argv[5]);
    c.epochs = std::stoll(argv[6]);
    wsenergy::measure::mlp_trainer t(c);
    const auto reports = t.train();
    std::printf("final loss %.6g\n", reports.back().train_loss);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cachegrind_train: %s\n", e.what());
    return 1;
  }
  return 0;
}
