#pragma once
/// @file fit/nnls.hpp
/// @brief Non-negative least squares by the active-set method of Lawson and Hanson (1974), with
/// Eigen: `min ||A x - b||` subject to `x >= 0`. An exact, independent solution of the linear
/// problem the Ceres fitter solves iteratively; the tests and the fitter compare the two.

#include <algorithm>
#include <limits>
#include <vector>

#include <Eigen/Dense>

namespace wsenergy::fit {

/// @brief The result of `nnls`.
struct nnls_result {
  Eigen::VectorXd x;       ///< the solution, every entry >= 0
  int iterations = 0;      ///< outer iterations (variables freed)
  bool converged = false;  ///< false when the iteration limit stopped it
};

namespace detail {

/// The indices of the passive (free) variables.
inline std::vector<Eigen::Index> passive_indices(const std::vector<bool>& passive) {
  std::vector<Eigen::Index> idx;
  for (std::size_t j = 0; j < passive.size(); ++j)
    if (passive[j]) idx.push_back(static_cast<Eigen::Index>(j));
  return idx;
}

/// The Lawson-Hanson active-set iteration, shared by both forms of the problem: `dual(x)` is the
/// negative gradient at `x` (`A'(b - A x)`); `solve_passive(idx)` the unconstrained least-squares
/// solution over the passive variables `idx`, one entry per index.
template <typename Dual, typename SolvePassive>
nnls_result active_set(Eigen::Index n, int max_iterations, double tol, Dual dual,
                       SolvePassive solve_passive) {
  if (max_iterations < 0) max_iterations = static_cast<int>(3 * n + 10);
  nnls_result out;
  out.x = Eigen::VectorXd::Zero(n);
  std::vector<bool> passive(static_cast<std::size_t>(n), false);
  auto solve = [&](Eigen::VectorXd& z) {
    const std::vector<Eigen::Index> idx = passive_indices(passive);
    const Eigen::VectorXd zp = solve_passive(idx);
    z = Eigen::VectorXd::Zero(n);
    for (std::size_t k = 0; k < idx.size(); ++k) z(idx[k]) = zp(static_cast<Eigen::Index>(k));
  };
  Eigen::VectorXd w = dual(out.x);
  while (out.iterations < max_iterations) {
    Eigen::Index best = -1;
    double best_w = tol;
    for (Eigen::Index j = 0; j < n; ++j)
      if (!passive[static_cast<std::size_t>(j)] && w(j) > best_w) {
        best_w = w(j);
        best = j;
      }
    if (best < 0) {
      out.converged = true;
      return out;
    }
    ++out.iterations;
    passive[static_cast<std::size_t>(best)] = true;
    Eigen::VectorXd z;
    for (int inner = 0; inner < 3 * n + 10; ++inner) {
      solve(z);
      bool feasible = true;
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<std::size_t>(j)] && z(j) <= 0) feasible = false;
      if (feasible) break;
      double alpha = 1;
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<std::size_t>(j)] && z(j) <= 0)
          alpha = std::min(alpha, out.x(j) / (out.x(j) - z(j)));
      out.x += alpha * (z - out.x);
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<std::size_t>(j)] &&
            out.x(j) <= 1e-15 * (1 + out.x.cwiseAbs().maxCoeff())) {
          passive[static_cast<std::size_t>(j)] = false;
          out.x(j) = 0;
        }
    }
    out.x = z.cwiseMax(0.0);
    w = dual(out.x);
  }
  return out;
}

}  // namespace detail

/// @brief Solves `min ||A x - b||_2` subject to `x >= 0` (Lawson-Hanson active set).
///
/// Columns should be of comparable norm; the tolerance on the dual is relative to `||A|| ||b||`.
/// @param max_iterations outer iterations before giving up (default `3 * columns`)
inline nnls_result nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                        int max_iterations = -1) {
  const Eigen::Index n = a.cols();
  const double tol = 10 * std::numeric_limits<double>::epsilon() * a.norm() * b.norm() *
                     static_cast<double>(std::max<Eigen::Index>(n, 1));
  return detail::active_set(
      n, max_iterations, tol,
      [&](const Eigen::VectorXd& x) -> Eigen::VectorXd { return a.transpose() * (b - a * x); },
      [&](const std::vector<Eigen::Index>& idx) -> Eigen::VectorXd {
        Eigen::MatrixXd ap(a.rows(), static_cast<Eigen::Index>(idx.size()));
        for (std::size_t k = 0; k < idx.size(); ++k)
          ap.col(static_cast<Eigen::Index>(k)) = a.col(idx[k]);
        return ap.colPivHouseholderQr().solve(b);
      });
}

/// @brief The same problem from its normal equations: `min x'Gx - 2 x'c` subject to `x >= 0`,
/// with `G = A'A` and `c = A'b`. Much faster for many rows and few columns (the fitter's search
/// for a starting point); less accurate for ill-conditioned `A`, which is why `nnls` uses QR.
inline nnls_result nnls_normal(const Eigen::MatrixXd& gram, const Eigen::VectorXd& c,
                               int max_iterations = -1) {
  if (c.size() == 0) return {Eigen::VectorXd(), 0, true};
  const double tol = 1e-12 * (1 + c.cwiseAbs().maxCoeff());
  return detail::active_set(
      gram.cols(), max_iterations, tol,
      [&](const Eigen::VectorXd& x) -> Eigen::VectorXd { return c - gram * x; },
      [&](const std::vector<Eigen::Index>& idx) -> Eigen::VectorXd {
        const auto k = static_cast<Eigen::Index>(idx.size());
        Eigen::MatrixXd g(k, k);
        Eigen::VectorXd r(k);
        for (Eigen::Index i = 0; i < k; ++i) {
          r(i) = c(idx[static_cast<std::size_t>(i)]);
          for (Eigen::Index j = 0; j < k; ++j)
            g(i, j) = gram(idx[static_cast<std::size_t>(i)], idx[static_cast<std::size_t>(j)]);
        }
        return g.ldlt().solve(r);
      });
}

}  // namespace wsenergy::fit
