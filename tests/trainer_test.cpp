// The built-in reference workload: its gradients, its learning and its input checks.
#include <cmath>

#include <catch2/catch.hpp>

#include "wsenergy/measure/trainer.hpp"

using Catch::Matchers::Contains;
using namespace wsenergy;
using namespace wsenergy::measure;

TEST_CASE("the loss decreases on the learnable teacher task", "[trainer]") {
  trainer_config c;
  c.inputs = 16;
  c.widths = {64, 64, 4};
  c.train_examples = 2048;
  c.eval_examples = 512;
  c.batch = 64;
  c.epochs = 20;
  mlp_trainer t(c);
  const auto reports = t.train();
  REQUIRE(reports.size() == 20);
  CHECK(reports.front().steps == 32);
  // Held-out loss falls to well under half of its first value, and keeps falling at the end.
  CHECK(reports.back().eval_loss < 0.3 * reports.front().eval_loss);
  CHECK(reports.back().train_loss < reports[15].train_loss);
  for (const auto& r : reports) CHECK(r.train_s > 0);
}

TEST_CASE("same seed, same run: another seed, another run", "[trainer]") {
  trainer_config c;
  c.inputs = 8;
  c.widths = {16, 2};
  c.train_examples = 300;  // the last batch is short (300 = 2 x 128 + 44)
  c.batch = 128;
  c.epochs = 3;
  const auto a = mlp_trainer(c).train();
  const auto b = mlp_trainer(c).train();
  CHECK(a.back().steps == 3);
  CHECK(a.back().train_loss == b.back().train_loss);
  CHECK(std::isnan(a.back().eval_loss));
  c.seed = 7;
  CHECK(mlp_trainer(c).train().back().train_loss != a.back().train_loss);
}

TEST_CASE("backpropagated gradients match finite differences", "[trainer]") {
  trainer_config c;
  c.inputs = 5;
  c.widths = {7, 6, 3};
  c.train_examples = 12;
  c.batch = 12;
  mlp_trainer t(c);
  const mlp_trainer::matrix x = t.train_inputs();
  const mlp_trainer::matrix y = t.train_targets();
  t.forward_backward(x, y);
  const auto grad_w = t.weight_gradients();
  const auto grad_b = t.bias_gradients();
  const float h = 1e-2F;
  int checked = 0;
  for (std::size_t k = 0; k < t.weights().size(); ++k) {
    auto& W = t.weights()[k];
    for (Eigen::Index i = 0; i < W.rows(); i += 2)
      for (Eigen::Index j = 0; j < W.cols(); j += 2) {
        const float saved = W(i, j);
        W(i, j) = saved + h;
        const double up = t.loss(x, y);
        W(i, j) = saved - h;
        const double down = t.loss(x, y);
        W(i, j) = saved;
        const double numeric = (up - down) / (2 * h);
        INFO("layer " << k << " weight (" << i << ", " << j << ")");
        CHECK(grad_w[k](i, j) == Approx(numeric).margin(2e-3).epsilon(0.05));
        ++checked;
      }
    auto& b = t.biases()[k];
    for (Eigen::Index i = 0; i < b.size(); ++i) {
      const float saved = b(i);
      b(i) = saved + h;
      const double up = t.loss(x, y);
      b(i) = saved - h;
      const double down = t.loss(x, y);
      b(i) = saved;
      INFO("layer " << k << " bias " << i);
      CHECK(grad_b[k](i) == Approx((up - down) / (2 * h)).margin(2e-3).epsilon(0.05));
    }
  }
  CHECK(checked > 20);
}

TEST_CASE("FLOPs of the matrix products of one step", "[trainer]") {
  // 32 -> 64 -> 10, batch 256: forward 2*(32*64 + 64*10)*256, weight gradients the same again,
  // input gradient only for the second layer: 2*64*10*256.
  const double expected = 2.0 * 256 * (2 * (32 * 64 + 64 * 10) + 64 * 10);
  CHECK(gemm_flops_per_step(32, {64, 10}, 256) == Approx(expected));
}

TEST_CASE("bad trainer configurations are refused with the value", "[trainer]") {
  trainer_config c;
  c.widths = {8};
  CHECK_THROWS_WITH(mlp_trainer(c), Contains("at least two layers"));
  c.widths = {8, 0};
  CHECK_THROWS_WITH(mlp_trainer(c), Contains("width 2 must be positive, got 0"));
  c.widths = {8, 2};
  c.inputs = -1;
  CHECK_THROWS_WITH(mlp_trainer(c), Contains("train: inputs must be positive, got -1"));
  c.inputs = 4;
  c.widths = {8, 2};
  c.batch = 0;
  CHECK_THROWS_WITH(mlp_trainer(c), Contains("train: batch must be positive, got 0"));
  c.batch = 4;
  c.epochs = -1;
  CHECK_THROWS_WITH(mlp_trainer(c), Contains("train: epochs must be positive, got -1"));
  c.epochs = 1;
  c.train_examples = 0;
  CHECK_THROWS_WITH(mlp_trainer(c), Contains("train: training examples must be positive, got 0"));
  c.train_examples = 8;
  c.eval_examples = -2;
  CHECK_THROWS_WITH(mlp_trainer(c), Contains("train: evaluation examples must not be negative, got -2"));
  c.eval_examples = 0;
  c.learning_rate = 0;
  CHECK_THROWS_WITH(mlp_trainer(c), Contains("learning rate must be positive"));
  c.learning_rate = 1e-3F;
  mlp_trainer t(c);
  const mlp_trainer::matrix big = mlp_trainer::matrix::Zero(c.inputs, 5);
  const mlp_trainer::matrix target = mlp_trainer::matrix::Zero(2, 5);
  CHECK_THROWS_WITH(t.loss(big, target), Contains("a batch of 5 examples exceeds the batch size 4"));
}
