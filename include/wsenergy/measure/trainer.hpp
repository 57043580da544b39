#pragma once
/// @file measure/trainer.hpp
/// @brief The reference workload of `wsenergy train` and `wsenergy sweep`: an fp32 MLP (ReLU
/// hidden layers, linear output, mean squared error) trained with Adam on a synthetic teacher
/// task, built on Eigen matrix products. Everything is seeded, so runs are repeatable.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include <Eigen/Core>
#include <fmt/format.h>

#include "wsenergy/error.hpp"
#include "wsenergy/topology.hpp"

namespace wsenergy::measure {

/// @brief What to train.
struct trainer_config {
  std::int64_t inputs = 32;               ///< input width
  std::vector<std::int64_t> widths;       ///< layer widths, output last (>= 2 layers)
  std::int64_t train_examples = 4096;     ///< training examples per epoch
  std::int64_t eval_examples = 0;         ///< evaluation examples, evaluated after every epoch
  std::int64_t batch = 256;               ///< examples per step
  std::int64_t epochs = 1;                ///< passes over the training examples
  float learning_rate = 1e-3F;            ///< Adam step size
  std::uint64_t seed = 42;                ///< seeds the data, the teacher and the initial weights
};

/// @brief Loss and time of one epoch.
struct epoch_report {
  std::int64_t epoch = 0;          ///< 1-based
  double train_loss = 0;           ///< mean squared error over the epoch's training batches
  double eval_loss = std::numeric_limits<double>::quiet_NaN();  ///< NaN without evaluation data
  double train_s = 0;              ///< seconds spent in training steps
  std::int64_t steps = 0;          ///< training steps of the epoch
};

/// @brief Multiply-add FLOPs of the matrix products of one training step (2 per multiply-add):
/// forward `W x`, weight gradient `dZ x^T`, and input gradient `W^T dZ` for every layer but the
/// first. This is what bench_train compares the step time against.
inline double gemm_flops_per_step(std::int64_t inputs, const std::vector<std::int64_t>& widths,
                                  std::int64_t batch) {
  double flops = 0;
  std::int64_t a = inputs;
  for (std::size_t k = 0; k < widths.size(); ++k) {
    const double mac = static_cast<double>(a) * static_cast<double>(widths[k]) *
                       static_cast<double>(batch);
    flops += 2 * mac * (k == 0 ? 2 : 3);
    a = widths[k];
  }
  return flops;
}

/// @brief An MLP with its Adam state, its synthetic data and preallocated step buffers.
class mlp_trainer {
 public:
  /// fp32 matrix; activations and data hold one example per column.
  using matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
  /// fp32 column vector (biases).
  using vector = Eigen::Matrix<float, Eigen::Dynamic, 1>;

  /// @brief Builds the network (He-initialised), the teacher and the data.
  /// @throws invalid_input for a non-positive width, count, batch or epochs
  explicit mlp_trainer(trainer_config c) : c_(std::move(c)) {
    if (c_.widths.size() < 2)
      throw invalid_input("train: a network needs at least two layers (widths, output last)");
    if (c_.inputs <= 0)
      throw invalid_input(fmt::format("train: inputs must be positive, got {}", c_.inputs));
    for (std::size_t k = 0; k < c_.widths.size(); ++k)
      if (c_.widths[k] <= 0)
        throw invalid_input(fmt::format("train: width {} must be positive, got {}", k + 1,
                                        c_.widths[k]));
    if (c_.train_examples <= 0)
      throw invalid_input(
          fmt::format("train: training examples must be positive, got {}", c_.train_examples));
    if (c_.eval_examples < 0)
      throw invalid_input(
          fmt::format("train: evaluation examples must not be negative, got {}", c_.eval_examples));
    if (c_.batch <= 0) throw invalid_input(fmt::format("train: batch must be positive, got {}", c_.batch));
    if (c_.epochs <= 0)
      throw invalid_input(fmt::format("train: epochs must be positive, got {}", c_.epochs));
    if (!(c_.learning_rate > 0))
      throw invalid_input(fmt::format("train: the learning rate must be positive, got {}",
                                      c_.learning_rate));
    std::mt19937_64 rng(c_.seed);
    const auto depth = c_.widths.size();
    const auto in = static_cast<Eigen::Index>(c_.inputs);
    const auto out = static_cast<Eigen::Index>(c_.widths.back());
    // Parameters and Adam moments.
    Eigen::Index fan_in = in;
    for (std::size_t k = 0; k < depth; ++k) {
      const auto w = static_cast<Eigen::Index>(c_.widths[k]);
      weights_.push_back(random_normal(w, fan_in, std::sqrt(2.0F / static_cast<float>(fan_in)), rng));
      biases_.push_back(vector::Zero(w));
      fan_in = w;
    }
    for (const auto& W : weights_) {
      grad_w_.push_back(matrix::Zero(W.rows(), W.cols()));
      m_w_.push_back(matrix::Zero(W.rows(), W.cols()));
      v_w_.push_back(matrix::Zero(W.rows(), W.cols()));
    }
    for (const auto& b : biases_) {
      grad_b_.push_back(vector::Zero(b.size()));
      m_b_.push_back(vector::Zero(b.size()));
      v_b_.push_back(vector::Zero(b.size()));
    }
    // The teacher: a fixed random network with one tanh hidden layer of 32 units.
    const Eigen::Index hidden = 32;
    teacher_w1_ = random_normal(hidden, in, 1.0F / std::sqrt(static_cast<float>(in)), rng);
    teacher_w2_ = random_normal(out, hidden, 1.0F / std::sqrt(static_cast<float>(hidden)), rng);
    auto make_data = [&](std::int64_t n, matrix& x, matrix& y) {
      if (n == 0) return;
      x = random_normal(in, static_cast<Eigen::Index>(n), 1.0F, rng);
      y.noalias() = teacher_w2_ * (teacher_w1_ * x).array().tanh().matrix();
    };
    make_data(c_.train_examples, train_x_, train_y_);
    make_data(c_.eval_examples, eval_x_, eval_y_);
    // Step buffers for a full batch; a short last batch uses their left columns.
    const auto batch = static_cast<Eigen::Index>(c_.batch);
    for (std::size_t k = 0; k < depth; ++k) {
      const auto w = static_cast<Eigen::Index>(c_.widths[k]);
      z_.push_back(matrix::Zero(w, batch));
      a_.push_back(matrix::Zero(w, batch));
      dz_.push_back(matrix::Zero(w, batch));
    }
  }

  /// The configuration it was built with.
  const trainer_config& config() const noexcept { return c_; }
  /// Weights of layer k (rows = its width, columns = the previous width).
  std::vector<matrix>& weights() noexcept { return weights_; }
  /// Biases of layer k.
  std::vector<vector>& biases() noexcept { return biases_; }
  /// Weight gradients of the last `forward_backward`, layer by layer.
  const std::vector<matrix>& weight_gradients() const noexcept { return grad_w_; }
  /// Bias gradients of the last `forward_backward`, layer by layer.
  const std::vector<vector>& bias_gradients() const noexcept { return grad_b_; }
  /// The synthetic training inputs, one column per example.
  const matrix& train_inputs() const noexcept { return train_x_; }
  /// The teacher's targets for `train_inputs`, one column per example.
  const matrix& train_targets() const noexcept { return train_y_; }

  /// @brief Mean squared error of a batch, forward pass only.
  double loss(const Eigen::Ref<const matrix>& x, const Eigen::Ref<const matrix>& y) {
    forward(x);
    const Eigen::Index n = x.cols();
    return static_cast<double>((a_.back().leftCols(n) - y).squaredNorm()) /
           static_cast<double>(n * y.rows());
  }

  /// @brief Loss of a batch and its gradients (kept in `weight_gradients`, `bias_gradients`).
  double forward_backward(const Eigen::Ref<const matrix>& x, const Eigen::Ref<const matrix>& y) {
    const double value = loss(x, y);
    const Eigen::Index n = x.cols();
    const std::size_t depth = weights_.size();
    const float scale = 2.0F / static_cast<float>(n * y.rows());
    dz_.back().leftCols(n) = scale * (a_.back().leftCols(n) - y);
    for (std::size_t k = depth; k-- > 0;) {
      auto dz = dz_[k].leftCols(n);
      if (k == 0)
        grad_w_[k].noalias() = dz * x.transpose();
      else
        grad_w_[k].noalias() = dz * a_[k - 1].leftCols(n).transpose();
      grad_b_[k] = dz.rowwise().sum();
      if (k > 0) {
        auto dprev = dz_[k - 1].leftCols(n);
        dprev.noalias() = weights_[k].transpose() * dz;
        dprev = (z_[k - 1].leftCols(n).array() > 0.0F).select(dprev.array(), 0.0F).matrix();
      }
    }
    return value;
  }

  /// @brief One Adam step on a batch; returns the batch loss before the step.
  double step(const Eigen::Ref<const matrix>& x, const Eigen::Ref<const matrix>& y) {
    const double value = forward_backward(x, y);
    ++t_;
    const float b1 = 0.9F, b2 = 0.999F, eps = 1e-7F;  // Keras defaults
    const float lr_t = c_.learning_rate *
                       std::sqrt(1.0F - std::pow(b2, static_cast<float>(t_))) /
                       (1.0F - std::pow(b1, static_cast<float>(t_)));
    for (std::size_t k = 0; k < weights_.size(); ++k) {
      adam(weights_[k], grad_w_[k], m_w_[k], v_w_[k], b1, b2, eps, lr_t);
      adam(biases_[k], grad_b_[k], m_b_[k], v_b_[k], b1, b2, eps, lr_t);
    }
    return value;
  }

  /// @brief One epoch over the training examples in order, then the evaluation examples.
  epoch_report train_epoch() {
    epoch_report r;
    r.epoch = ++epoch_;
    const auto total = static_cast<Eigen::Index>(c_.train_examples);
    const auto batch = static_cast<Eigen::Index>(c_.batch);
    double weighted = 0;
    const auto start = std::chrono::steady_clock::now();
    for (Eigen::Index first = 0; first < total; first += batch) {
      const Eigen::Index n = std::min(batch, total - first);
      weighted += step(train_x_.middleCols(first, n), train_y_.middleCols(first, n)) *
                  static_cast<double>(n);
      ++r.steps;
    }
    r.train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.train_loss = weighted / static_cast<double>(total);
    if (c_.eval_examples > 0) {
      const auto eval_total = static_cast<Eigen::Index>(c_.eval_examples);
      double sum = 0;
      for (Eigen::Index first = 0; first < eval_total; first += batch) {
        const Eigen::Index n = std::min(batch, eval_total - first);
        sum += loss(eval_x_.middleCols(first, n), eval_y_.middleCols(first, n)) *
               static_cast<double>(n);
      }
      r.eval_loss = sum / static_cast<double>(eval_total);
    }
    return r;
  }

  /// @brief Every epoch of the configuration; `on_epoch` sees each report as it ends.
  std::vector<epoch_report> train(const std::function<void(const epoch_report&)>& on_epoch = {}) {
    std::vector<epoch_report> reports;
    for (std::int64_t e = 0; e < c_.epochs; ++e) {
      reports.push_back(train_epoch());
      if (on_epoch) on_epoch(reports.back());
    }
    return reports;
  }

 private:
  static matrix random_normal(Eigen::Index rows, Eigen::Index cols, float stddev,
                              std::mt19937_64& rng) {
    std::normal_distribution<float> normal(0.0F, stddev);
    matrix m(rows, cols);
    for (Eigen::Index j = 0; j < cols; ++j)
      for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = normal(rng);
    return m;
  }

  template <typename P>
  static void adam(P& param, const P& grad, P& m, P& v, float b1, float b2, float eps,
                   float lr_t) {
    m.array() = b1 * m.array() + (1.0F - b1) * grad.array();
    v.array() = b2 * v.array() + (1.0F - b2) * grad.array().square();
    param.array() -= lr_t * m.array() / (v.array().sqrt() + eps);
  }

  void forward(const Eigen::Ref<const matrix>& x) {
    const Eigen::Index n = x.cols();
    if (n > static_cast<Eigen::Index>(c_.batch))
      throw invalid_input(
          fmt::format("train: a batch of {} examples exceeds the batch size {}", n, c_.batch));
    const std::size_t depth = weights_.size();
    for (std::size_t k = 0; k < depth; ++k) {
      auto z = z_[k].leftCols(n);
      if (k == 0)
        z.noalias() = weights_[k] * x;
      else
        z.noalias() = weights_[k] * a_[k - 1].leftCols(n);
      z.colwise() += biases_[k];
      if (k + 1 < depth)
        a_[k].leftCols(n) = z.cwiseMax(0.0F);
      else
        a_[k].leftCols(n) = z;
    }
  }

  trainer_config c_;
  std::vector<matrix> weights_, grad_w_, m_w_, v_w_;
  std::vector<vector> biases_, grad_b_, m_b_, v_b_;
  matrix teacher_w1_, teacher_w2_;
  matrix train_x_, train_y_, eval_x_, eval_y_;
  std::vector<matrix> z_, a_, dz_;
  std::int64_t t_ = 0;
  std::int64_t epoch_ = 0;
};

}  // namespace wsenergy::measure
