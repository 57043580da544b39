#pragma once
/// @file topology.hpp
/// @brief Fully connected networks: widths, parameter and FLOP counts, the BUTTER shapes and the
/// size search that turns a target parameter count into widths (docs/model.md sections 2 and 4).

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"

namespace wsenergy {

/// @brief A network shape of the BUTTER sweep: how the widths follow from the first width.
enum class shape : std::uint8_t {
  rectangle,
  rectangle_residual,
  trapezoid,
  exponential,
  wide_first_2x,
  wide_first_4x,
  wide_first_5x,
  wide_first_8x,
  wide_first_10x,
  wide_first_16x,
  wide_first_20x,
};

/// @brief Every shape the library knows, in declaration order.
inline constexpr std::array<shape, 11> all_shapes = {
    shape::rectangle,      shape::rectangle_residual, shape::trapezoid,      shape::exponential,
    shape::wide_first_2x,  shape::wide_first_4x,      shape::wide_first_5x,  shape::wide_first_8x,
    shape::wide_first_10x, shape::wide_first_16x,     shape::wide_first_20x};

/// @brief The eight shapes of the BUTTER-E energy sweep.
inline constexpr std::array<shape, 8> butter_shapes = {
    shape::rectangle,     shape::rectangle_residual, shape::trapezoid,     shape::exponential,
    shape::wide_first_2x, shape::wide_first_4x,      shape::wide_first_8x, shape::wide_first_16x};

/// @brief The fourteen depths of the BUTTER sweep.
inline constexpr std::array<int, 14> butter_depths = {2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20};

/// @brief The twenty target sizes of the BUTTER sweep, 2^5 ... 2^24 parameters.
inline constexpr std::array<std::int64_t, 20> butter_sizes = [] {
  std::array<std::int64_t, 20> sizes{};
  for (std::size_t i = 0; i < sizes.size(); ++i) sizes[i] = std::int64_t{1} << (i + 5);
  return sizes;
}();

/// @brief The name of a shape as the study spells it (`wide_first_4x`).
constexpr std::string_view to_string(shape s) noexcept {
  switch (s) {
    case shape::rectangle: return "rectangle";
    case shape::rectangle_residual: return "rectangle_residual";
    case shape::trapezoid: return "trapezoid";
    case shape::exponential: return "exponential";
    case shape::wide_first_2x: return "wide_first_2x";
    case shape::wide_first_4x: return "wide_first_4x";
    case shape::wide_first_5x: return "wide_first_5x";
    case shape::wide_first_8x: return "wide_first_8x";
    case shape::wide_first_10x: return "wide_first_10x";
    case shape::wide_first_16x: return "wide_first_16x";
    case shape::wide_first_20x: return "wide_first_20x";
  }
  return "unknown";
}

/// @brief The shape with this name, or nothing.
constexpr std::optional<shape> shape_from_name(std::string_view name) noexcept {
  for (shape s : all_shapes)
    if (to_string(s) == name) return s;
  return std::nullopt;
}

/// @brief The shape with this name.
/// @throws invalid_input naming the value and the known shapes when there is none.
inline shape parse_shape(std::string_view name) {
  if (auto s = shape_from_name(name)) return *s;
  std::string known;
  for (shape s : all_shapes) known += fmt::format("{}{}", known.empty() ? "" : ", ", to_string(s));
  throw invalid_input(fmt::format("shape: unknown shape '{}' (known: {})", name, known));
}

/// @brief The divisor M of a `wide_first_Mx` shape, or 0 for the other shapes.
constexpr int wide_first_factor(shape s) noexcept {
  switch (s) {
    case shape::wide_first_2x: return 2;
    case shape::wide_first_4x: return 4;
    case shape::wide_first_5x: return 5;
    case shape::wide_first_8x: return 8;
    case shape::wide_first_10x: return 10;
    case shape::wide_first_16x: return 16;
    case shape::wide_first_20x: return 20;
    default: return 0;
  }
}

namespace detail {

/// Round half to even, as Python's round() and the study's code do.
///
/// Below 2^51 in magnitude, adding and subtracting 1.5 * 2^52 rounds in the current (default:
/// to nearest, ties to even) mode exactly as `std::nearbyint` does, without its library call.
/// (Under -ffast-math the compiler may fold the trick away, so it is not used there.)
inline std::int64_t round_even(double x) noexcept {
#ifndef __FAST_MATH__
  constexpr double magic = 6755399441055744.0;  // 1.5 * 2^52
  if (std::fabs(x) < 2251799813685248.0)        // 2^51
    return static_cast<std::int64_t>((x + magic) - magic);
#endif
  return static_cast<std::int64_t>(std::nearbyint(x));
}

/// a * b + c, or nothing when it leaves the signed 64-bit range.
constexpr std::optional<std::int64_t> mul_add_checked(std::int64_t a, std::int64_t b,
                                                      std::int64_t c) noexcept {
  std::int64_t product = 0;
  std::int64_t sum = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  if (__builtin_add_overflow(product, c, &sum)) return std::nullopt;
  return sum;
}

/// Width k (0-based) of a shape with first width w0; the shared rule behind shape_widths and the
/// allocation-free parameter count of the size search.
struct shape_rule {
  shape kind;
  std::int64_t w0;
  int depth;
  std::int64_t out;
  double beta = 0.0;  // trapezoid slope, or exponential ratio
  std::int64_t narrow = 0;  // wide_first middle width

  shape_rule(shape s, std::int64_t first, int d, std::int64_t outputs) noexcept
      : kind(s), w0(first), depth(d), out(outputs) {
    if (kind == shape::trapezoid) {
      beta = static_cast<double>(w0 - out) / static_cast<double>(depth - 1);
    } else if (kind == shape::exponential) {
      beta = std::exp(std::log(static_cast<double>(out) / static_cast<double>(w0)) /
                      static_cast<double>(depth - 1));
    } else if (int m = wide_first_factor(kind); m != 0) {
      narrow = std::max<std::int64_t>(1, round_even(static_cast<double>(w0) / m));
    }
  }

  std::int64_t operator()(int k) const noexcept {
    if (k == depth - 1 && kind != shape::trapezoid && kind != shape::exponential) return out;
    switch (kind) {
      case shape::trapezoid:
        return round_even(static_cast<double>(w0) - beta * k);
      case shape::exponential:
        return std::max(out, round_even(static_cast<double>(w0) * std::pow(beta, k)));
      case shape::rectangle:
      case shape::rectangle_residual:
        return w0;
      default:
        return k == 0 ? w0 : narrow;
    }
  }
};

__extension__ using wide_int = __int128;

/// A 128-bit count as 64 bits, or nothing when it does not fit.
inline std::optional<std::int64_t> narrow_count(wide_int total) noexcept {
  if (total > static_cast<wide_int>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  return static_cast<std::int64_t>(total);
}

/// Closed-form count of a rectangle (`w0` D-1 times, then `out`).
inline wide_int rectangle_count(std::int64_t w0, int depth, std::int64_t inputs,
                                std::int64_t outputs) noexcept {
  const wide_int w = w0;
  return (wide_int{inputs} + 1) * w + wide_int{depth - 2} * (w + 1) * w + (w + 1) * outputs;
}

/// Closed-form count of a wide-first shape with divisor `m`.
inline wide_int wide_first_count(std::int64_t w0, int m, int depth, std::int64_t inputs,
                                 std::int64_t outputs) noexcept {
  const wide_int w = w0;
  const wide_int in1 = wide_int{inputs} + 1;
  if (depth == 2) return in1 * w + (w + 1) * outputs;
  const wide_int narrow =
      std::max<std::int64_t>(1, round_even(static_cast<double>(w0) / static_cast<double>(m)));
  return in1 * w + (w + 1) * narrow + wide_int{depth - 3} * (narrow + 1) * narrow +
         (narrow + 1) * outputs;
}

/// Count of a trapezoid, stopping once it passes `limit` (every layer adds a positive count).
inline wide_int trapezoid_count(std::int64_t w0, int depth, std::int64_t inputs,
                                std::int64_t outputs, std::int64_t limit) noexcept {
  const double w0d = static_cast<double>(w0);
  const double beta = static_cast<double>(w0 - outputs) / static_cast<double>(depth - 1);
  std::int64_t total = 0;
  std::int64_t previous = inputs;
  for (int k = 0; k < depth; ++k) {
    const std::int64_t width = round_even(w0d - beta * k);
    std::int64_t layer = 0;
    if (__builtin_mul_overflow(previous + 1, width, &layer) ||
        __builtin_add_overflow(total, layer, &total))
      return wide_int{std::numeric_limits<std::int64_t>::max()} + 1;
    if (total > limit) return total;
    previous = width;
  }
  return total;
}

/// Count of an exponential, stopping once it passes `limit`. `beta^k` comes from repeated
/// multiplication; where `w0 beta^k` is so close to a rounding boundary that it and
/// `w0 * std::pow(beta, k)` could round differently, the exact rule decides.
inline wide_int exponential_count(std::int64_t w0, int depth, std::int64_t inputs,
                                  std::int64_t outputs, std::int64_t limit) noexcept {
  const shape_rule rule(shape::exponential, w0, depth, outputs);
  const double w0d = static_cast<double>(w0);
  double beta_k = 1.0;
  std::int64_t total = 0;
  std::int64_t previous = inputs;
  for (int k = 0; k < depth; ++k) {
    const double x = w0d * beta_k;
    const std::int64_t nearest = round_even(x);
    const double distance = std::fabs(std::fabs(x - static_cast<double>(nearest)) - 0.5);
    const std::int64_t width =
        std::max(distance > 1e-9 * std::max(1.0, x) ? nearest : rule(k), outputs);
    beta_k *= rule.beta;
    std::int64_t layer = 0;
    if (__builtin_mul_overflow(previous + 1, width, &layer) ||
        __builtin_add_overflow(total, layer, &total))
      return wide_int{std::numeric_limits<std::int64_t>::max()} + 1;
    if (total > limit) return total;
    previous = width;
  }
  return total;
}

/// Parameter count of a shape without building its widths; nothing on 64-bit overflow.
///
/// This is the inner loop of the size search, so it avoids the per-layer work of `shape_rule`:
/// rectangles and wide-first shapes have closed forms; trapezoids and exponentials stop as soon
/// as the running count passes `limit` (the result is then some count above `limit`). The result
/// otherwise equals `parameter_count(inputs, shape_widths(...))` (a test checks this over every
/// shape).
inline std::optional<std::int64_t> shape_parameters(
    shape s, std::int64_t w0, int depth, std::int64_t inputs, std::int64_t outputs,
    std::int64_t limit = std::numeric_limits<std::int64_t>::max()) noexcept {
  switch (s) {
    case shape::rectangle:
    case shape::rectangle_residual:
      return narrow_count(rectangle_count(w0, depth, inputs, outputs));
    case shape::trapezoid:
      return narrow_count(trapezoid_count(w0, depth, inputs, outputs, limit));
    case shape::exponential:
      return narrow_count(exponential_count(w0, depth, inputs, outputs, limit));
    default:
      return narrow_count(wide_first_count(w0, wide_first_factor(s), depth, inputs, outputs));
  }
}

}  // namespace detail

/// @brief Parameter count `P = sum_k (w_{k-1} + 1) * w_k`, `w_0 = inputs` (docs/model.md section 2).
/// @param inputs input width (values per example)
/// @param widths layer widths, output layer last
/// @throws invalid_input when the count does not fit in 64 bits
inline std::int64_t parameter_count(std::int64_t inputs, std::span<const std::int64_t> widths) {
  std::int64_t total = 0;
  std::int64_t previous = inputs;
  for (std::size_t k = 0; k < widths.size(); ++k) {
    auto next = detail::mul_add_checked(previous + 1, widths[k], total);
    if (!next)
      throw invalid_input(fmt::format(
          "parameters: the parameter count overflows 64 bits at layer {} (width {})", k + 1,
          widths[k]));
    total = *next;
    previous = widths[k];
  }
  return total;
}

/// @brief The deepest network the library builds (dense layers, output included): far beyond the
/// study's 20, small enough that the widths of any accepted depth fit in memory.
inline constexpr int max_depth = 4096;

/// @brief The layer widths of a shape (docs/model.md section 2), output layer last.
/// @param first_width the first width `w0` (> 0)
/// @param depth number of dense layers including the output layer (>= 2)
/// @param outputs output width (> 0)
/// @throws invalid_input for a depth below 2 or a width that is not positive
inline std::vector<std::int64_t> shape_widths(shape s, std::int64_t first_width, int depth,
                                              std::int64_t outputs) {
  if (depth < 2) throw invalid_input(fmt::format("depth: must be at least 2, got {}", depth));
  if (depth > max_depth)
    throw invalid_input(fmt::format("depth: must be at most {}, got {}", max_depth, depth));
  if (first_width <= 0)
    throw invalid_input(fmt::format("first width: must be positive, got {}", first_width));
  if (outputs <= 0) throw invalid_input(fmt::format("outputs: must be positive, got {}", outputs));
  const detail::shape_rule rule(s, first_width, depth, outputs);
  std::vector<std::int64_t> widths(static_cast<std::size_t>(depth));
  for (int k = 0; k < depth; ++k) widths[static_cast<std::size_t>(k)] = rule(k);
  return widths;
}

/// @brief The result of matching a target parameter count (docs/model.md section 2).
struct size_match {
  std::int64_t target_parameters = 0;  ///< the size asked for
  std::int64_t first_width = 0;        ///< the chosen `w0`
  std::vector<std::int64_t> widths;    ///< the layer widths, output layer last
  std::int64_t parameters = 0;         ///< their parameter count
  double relative_error = 0.0;         ///< `|P - target| / target`
  bool accepted = false;               ///< false when the study would reject it (error > 20 %)
};

/// @brief Largest relative size error the BUTTER-E sweep accepts.
inline constexpr double max_size_error = 0.2;

namespace detail {

inline void check_search_inputs(int depth, std::int64_t inputs, std::int64_t outputs,
                                std::int64_t target) {
  if (depth < 2) throw invalid_input(fmt::format("depth: must be at least 2, got {}", depth));
  if (depth > max_depth)
    throw invalid_input(fmt::format("depth: must be at most {}, got {}", max_depth, depth));
  if (inputs <= 0) throw invalid_input(fmt::format("inputs: must be positive, got {}", inputs));
  if (outputs <= 0) throw invalid_input(fmt::format("outputs: must be positive, got {}", outputs));
  if (target <= 0) throw invalid_input(fmt::format("size: must be positive, got {}", target));
}

/// The authors' binary search on w0 over a count function `count(w0, limit)` (a 128-bit count,
/// possibly stopped early above `limit`); returns (w0, P) of the best candidate seen.
template <typename Count>
std::pair<std::int64_t, std::int64_t> binary_search_first_width(Count count,
                                                                std::int64_t target) noexcept {
  constexpr std::int64_t overflowed = std::numeric_limits<std::int64_t>::max();
  std::int64_t lo = 1;
  std::int64_t hi = std::int64_t{1} << 30;
  std::int64_t best_w0 = 0;
  std::int64_t best_p = 0;
  std::int64_t best_gap = overflowed;
  while (lo < hi) {
    const std::int64_t c = (lo + hi) / 2;
    // A candidate whose count passes target + best_gap can neither win nor change the direction
    // of the search beyond "too large", so its count need not be finished.
    const std::int64_t limit = best_gap > overflowed - target ? overflowed : target + best_gap;
    const std::int64_t p = narrow_count(count(c, limit)).value_or(overflowed);
    // p >= 1 and target >= 1, so p - target cannot overflow.
    const std::int64_t d = p - target;
    const std::int64_t gap = d < 0 ? -d : d;
    if (gap < best_gap) {
      best_gap = gap;
      best_w0 = c;
      best_p = p;
    }
    if (d < 0)
      lo = c + 1;
    else if (d > 0)
      hi = c;
    else
      break;
  }
  return {best_w0, best_p};
}

/// The same result as `binary_search_first_width` for a count `count(w0, limit)` (as there) that
/// is strictly increasing in w0, found from a first guess instead of thirty evaluations.
///
/// For such a count the binary search is a lower bound on w0: it ends on w* (the first w0 whose
/// count reaches the target), visits w* - 1 (when w* > 1) and w* (when w* < 2^30), and every other
/// candidate it visits is further from the target. So the result is whichever of those two is
/// nearer, the one the search visits first on a tie. w* is found by galloping from `guess`. A
/// count that overflows 64 bits (equal counts) falls back to the binary search.
template <typename Count>
std::pair<std::int64_t, std::int64_t> monotone_search_first_width(Count count, std::int64_t target,
                                                                  double guess) noexcept {
  constexpr std::int64_t end = std::int64_t{1} << 30;  // the binary search's hi
  constexpr std::int64_t overflowed = std::numeric_limits<std::int64_t>::max();
  // The count, or some count above the target when it passes it (all the bracketing needs).
  const auto at = [&](std::int64_t c) {
    return narrow_count(count(c, target)).value_or(overflowed);
  };
  const auto exact = [&](std::int64_t c) {
    return narrow_count(count(c, overflowed)).value_or(overflowed);
  };
  std::int64_t g = end - 1;
  if (!(guess >= 1.0)) g = 1;  // NaN too
  else if (guess < static_cast<double>(end - 1)) g = static_cast<std::int64_t>(guess);
  // Bracket w* in [lo, hi]: count(lo - 1) < target (or lo == 1), count(hi) >= target (or hi ==
  // end), then bisect.
  std::int64_t lo = 1;
  std::int64_t hi = end;
  if (at(g) >= target) {
    hi = g;
    for (std::int64_t step = 1;; step *= 2) {
      const std::int64_t c = hi - step;
      if (c < 1) break;
      if (at(c) < target) {
        lo = c + 1;
        break;
      }
      hi = c;
    }
  } else {
    lo = g + 1;
    for (std::int64_t step = 1;; step *= 2) {
      const std::int64_t c = lo - 1 + step;
      if (c >= end) break;
      if (at(c) >= target) {
        hi = c;
        break;
      }
      lo = c + 1;
    }
  }
  while (lo < hi) {
    const std::int64_t c = lo + (hi - lo) / 2;
    if (at(c) >= target)
      hi = c;
    else
      lo = c + 1;
  }
  const std::int64_t w_star = lo;
  const std::int64_t p_above = w_star < end ? exact(w_star) : overflowed;
  if (w_star < end && p_above == overflowed) return binary_search_first_width(count, target);
  if (w_star < end && p_above == target) return {w_star, p_above};
  const std::int64_t p_below = w_star > 1 ? at(w_star - 1) : 0;
  if (w_star == end) return {w_star - 1, p_below};
  if (w_star == 1) return {w_star, p_above};
  const std::int64_t gap_below = target - p_below;
  const std::int64_t gap_above = p_above - target;
  if (gap_below != gap_above)
    return gap_below < gap_above ? std::pair{w_star - 1, p_below} : std::pair{w_star, p_above};
  // A tie: replay the search's path to see which of the two it visits first.
  for (std::int64_t a = 1, b = end; a < b;) {
    const std::int64_t c = (a + b) / 2;
    if (c == w_star - 1) return {c, p_below};
    if (c == w_star) return {c, p_above};
    if (c < w_star)
      a = c + 1;
    else
      b = c;
  }
  return {w_star, p_above};  // not reached: the path visits both
}

/// The positive root of `a w^2 + b w + c = target` (a, b >= 0, not both 0): a first guess at w0.
inline double quadratic_guess(double a, double b, double c, double target) noexcept {
  if (a == 0) return (target - c) / b;
  return (-b + std::sqrt(b * b + 4 * a * (target - c))) / (2 * a);
}

/// A first guess at the w0 of an exponential with `target` parameters: the count with unrounded
/// widths `max(n_out, w0 beta^k)` solved by the secant method on log w0 against log P.
inline double exponential_guess(int depth, std::int64_t inputs, std::int64_t outputs,
                                std::int64_t target) noexcept {
  const double in1 = static_cast<double>(inputs + 1);
  const double out = static_cast<double>(outputs);
  const double steps = depth - 1;
  const auto log_count = [&](double log_w) {
    const double w = std::exp(log_w);
    const double beta = std::exp((std::log(out) - log_w) / steps);
    double total = in1 * w;
    double x = w;
    double previous = std::max(out, w);
    for (int k = 1; k < depth; ++k) {
      x *= beta;
      const double width = std::max(out, x);
      total += (previous + 1) * width;
      previous = width;
    }
    return std::log(total);
  };
  const double goal = std::log(static_cast<double>(target));
  double a = std::log(std::max(1.0, static_cast<double>(target) / (in1 + out)));
  double b = 0.5 * goal;
  double fa = log_count(a);
  double fb = log_count(b);
  for (int i = 0; i < 8 && fa != fb && std::fabs(b - a) > 1e-9; ++i) {
    const double next = b + (goal - fb) * (b - a) / (fb - fa);
    a = b;
    fa = fb;
    b = std::clamp(next, 0.0, 31.0);
    fb = log_count(b);
  }
  return std::exp(b);
}

/// The authors' binary search on w0 for a shape; returns (w0, P) of the best candidate seen. The
/// shape is dispatched once, outside the search loop.
inline std::pair<std::int64_t, std::int64_t> search_first_width(shape s, int depth,
                                                                std::int64_t inputs,
                                                                std::int64_t outputs,
                                                                std::int64_t target) noexcept {
  switch (s) {
    case shape::rectangle:
    case shape::rectangle_residual: {
      // (D - 2) w^2 + (n_in + 1 + D - 2 + n_out) w + n_out
      const double d2 = depth - 2;
      return monotone_search_first_width(
          [&](std::int64_t c, std::int64_t) { return rectangle_count(c, depth, inputs, outputs); },
          target,
          quadratic_guess(d2, static_cast<double>(inputs + 1 + outputs) + d2,
                          static_cast<double>(outputs), static_cast<double>(target)));
    }
    case shape::trapezoid: {
      // Widths w0 + (n_out - w0) k / (D - 1) (first width exactly w0, so the count is strictly
      // increasing), rounding aside: a quadratic in w0.
      const double out = static_cast<double>(outputs);
      double a = 0;
      double b = static_cast<double>(inputs + 1);
      double c = 0;
      double previous_a = 1;  // width k - 1 = previous_a w0 + previous_b
      double previous_b = 0;
      for (int k = 1; k < depth; ++k) {
        const double f = static_cast<double>(k) / static_cast<double>(depth - 1);
        const double ak = 1 - f;
        const double bk = out * f;
        a += previous_a * ak;
        b += previous_a * bk + (previous_b + 1) * ak;
        c += (previous_b + 1) * bk;
        previous_a = ak;
        previous_b = bk;
      }
      return monotone_search_first_width(
          [&](std::int64_t w0, std::int64_t limit) {
            return trapezoid_count(w0, depth, inputs, outputs, limit);
          },
          target, quadratic_guess(a, b, c, static_cast<double>(target)));
    }
    case shape::exponential: {
      const auto count = [&](std::int64_t c, std::int64_t limit) {
        return exponential_count(c, depth, inputs, outputs, limit);
      };
      // The first width is max(n_out, w0): the count is constant up to w0 = n_out and strictly
      // increasing after, so the guided search holds once w* - 1 lies past n_out.
      if (narrow_count(count(outputs + 1, target)).value_or(target) >= target)
        return binary_search_first_width(count, target);
      return monotone_search_first_width(count, target,
                                         exponential_guess(depth, inputs, outputs, target));
    }
    default: {
      const int m = wide_first_factor(s);
      // With the middle width w / m: (1/m + (D - 3)/m^2) w^2
      //   + (n_in + 1 + 1/m + (D - 3)/m + n_out/m) w + n_out (for D = 2: (n_in + 1 + n_out) w + n_out).
      const double inv = 1.0 / m;
      const double d3 = depth - 3;
      const double in1 = static_cast<double>(inputs + 1);
      const double out = static_cast<double>(outputs);
      const double t = static_cast<double>(target);
      const double guess = depth == 2
                               ? quadratic_guess(0, in1 + out, out, t)
                               : quadratic_guess(inv + d3 * inv * inv,
                                                 in1 + inv + d3 * inv + out * inv, out, t);
      return monotone_search_first_width(
          [&](std::int64_t c, std::int64_t) {
            return wide_first_count(c, m, depth, inputs, outputs);
          },
          target, guess);
    }
  }
}

}  // namespace detail

/// @brief The study's size search: the first width whose network is nearest the target.
///
/// Reproduces the published BUTTER widths bit for bit (binary search on `w0` in `[1, 2^30)`,
/// first-evaluated candidate wins ties). A rejected match is returned with `accepted = false`.
/// @param target_parameters the parameter count asked for (> 0)
/// @throws invalid_input for a depth below 2 or a non-positive width or target
inline size_match search_size(shape s, int depth, std::int64_t inputs, std::int64_t outputs,
                              std::int64_t target_parameters) {
  detail::check_search_inputs(depth, inputs, outputs, target_parameters);
  const auto [w0, p] = detail::search_first_width(s, depth, inputs, outputs, target_parameters);
  size_match m;
  m.target_parameters = target_parameters;
  m.first_width = w0;
  m.widths = shape_widths(s, w0, depth, outputs);
  m.parameters = p;
  m.relative_error = static_cast<double>(p > target_parameters ? p - target_parameters
                                                               : target_parameters - p) /
                     static_cast<double>(target_parameters);
  m.accepted = m.relative_error <= max_size_error;
  return m;
}

/// @brief A value type a network can be stored in (fp32 in the study).
template <typename T>
concept network_value = std::is_arithmetic_v<T> && (sizeof(T) >= 1);

/// @brief Operation counts of one batch (docs/model.md section 4), as the authors count them.
/// Counted in double: a batch of a very wide network can exceed 2^63 operations.
struct batch_operations {
  double forward = 0;   ///< one forward pass over a batch
  double backward = 0;  ///< one backward pass and update over a batch
};

/// @brief The authors' operation counts for one batch (docs/model.md section 4), from the input
/// width, the layer widths and the parameter count.
inline batch_operations batch_operations_of(std::int64_t inputs,
                                            std::span<const std::int64_t> widths,
                                            std::int64_t parameters, std::int64_t batch) noexcept {
  double forward_per_datum = 0;
  double backward_per_datum = 0;
  double a = static_cast<double>(inputs);
  for (std::size_t i = 0; i < widths.size(); ++i) {
    const double b = static_cast<double>(widths[i]);
    forward_per_datum += a * b + b;
    backward_per_datum += 2 * b + a * b + (i > 0 ? a * b : 0);
    a = b;
  }
  const double n = static_cast<double>(batch);
  const double p = static_cast<double>(parameters);
  return {n * forward_per_datum, backward_per_datum * n + p * (1 + n)};
}

/// @brief Layer widths from text, output layer last: entries separated by commas or spaces
/// (`1024,512,10`, `1024 512 10`, `1024, 512, 10`; `;` and `|` count as commas, as runs and
/// plan files may write them). Strict: an empty entry (`1024,,10`), one that is not a positive
/// whole number, fewer than two widths or more than `max_depth` are errors.
/// @param error `error(what)` gives the `invalid_input` to throw, so callers name their source
/// (a flag, a file and line, a key)
template <typename Error>
std::vector<std::int64_t> parse_width_list(std::string_view text, Error&& error) {
  std::vector<std::int64_t> widths;
  std::size_t entry = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find_first_of(",;|", start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(start, end - start);
    const std::size_t before = widths.size();
    std::size_t pos = 0;
    while ((pos = item.find_first_not_of(" \t", pos)) != std::string_view::npos) {
      const std::size_t stop = std::min(item.find_first_of(" \t", pos), item.size());
      const std::string_view word = item.substr(pos, stop - pos);
      ++entry;
      std::int64_t w = 0;
      const auto [last, ec] = std::from_chars(word.data(), word.data() + word.size(), w);
      if (ec != std::errc{} || last != word.data() + word.size())
        throw error(fmt::format("expected a whole number at entry {} ('{}')", entry, word));
      if (w <= 0)
        throw error(fmt::format("widths must be positive, entry {} is {}", entry, word));
      if (widths.size() == static_cast<std::size_t>(max_depth))
        throw error(fmt::format("more than {} layers", max_depth));
      widths.push_back(w);
      pos = stop;
    }
    if (widths.size() == before)
      throw error(fmt::format("entry {} is empty", entry + 1));  // `1024,,10`, a trailing comma
    start = end + 1;
  }
  if (widths.size() < 2) throw error("a network needs at least two layers (widths, output last)");
  return widths;
}

/// @brief Layer widths from text (`parse_width_list`), errors naming `widths` and the text.
/// @throws invalid_input for an empty, non-numeric or non-positive entry, or fewer than two
inline std::vector<std::int64_t> parse_widths(std::string_view text) {
  return parse_width_list(text, [&](std::string_view what) {
    return invalid_input(fmt::format("widths '{}': {}", text, what));
  });
}

/// @brief A multilayer perceptron: an input width and the widths of its dense layers.
/// @tparam Value the stored value type; `sizeof(Value)` is the bytes per value of every set.
template <network_value Value = float>
class mlp {
 public:
  using value_type = Value;
  /// Bytes of one stored value.
  static constexpr std::int64_t bytes_per_value = sizeof(Value);

  /// @brief A network from its widths.
  /// @param inputs input width (> 0)
  /// @param widths layer widths, output layer last (at least two layers, each > 0)
  /// @throws invalid_input naming the bad width, or when the parameter count overflows
  mlp(std::int64_t inputs, std::vector<std::int64_t> widths)
      : inputs_(inputs), widths_(std::move(widths)) {
    if (inputs_ <= 0) throw invalid_input(fmt::format("inputs: must be positive, got {}", inputs_));
    if (widths_.size() < 2)
      throw invalid_input(fmt::format("depth: must be at least 2, got {}", widths_.size()));
    if (widths_.size() > static_cast<std::size_t>(max_depth))
      throw invalid_input(
          fmt::format("depth: must be at most {}, got {}", max_depth, widths_.size()));
    for (std::size_t k = 0; k < widths_.size(); ++k)
      if (widths_[k] <= 0)
        throw invalid_input(
            fmt::format("widths: layer {} must have a positive width, got {}", k + 1, widths_[k]));
    parameters_ = parameter_count(inputs_, widths_);
  }

  /// @brief The network the size search finds for a shape, depth and target size.
  /// @throws invalid_input when the search rejects the target (more than 20 % off)
  static mlp from_shape(shape s, int depth, std::int64_t inputs, std::int64_t outputs,
                        std::int64_t target_parameters) {
    size_match m = search_size(s, depth, inputs, outputs, target_parameters);
    if (!m.accepted)
      throw invalid_input(fmt::format(
          "size: no {} network of depth {} with {} inputs and {} outputs comes within 20 % of {} "
          "parameters (nearest: {} parameters, {:.1f} % off)",
          to_string(s), depth, inputs, outputs, target_parameters, m.parameters,
          100.0 * m.relative_error));
    return mlp(inputs, std::move(m.widths));
  }

  std::int64_t inputs() const noexcept { return inputs_; }
  std::int64_t outputs() const noexcept { return widths_.back(); }
  /// Number of dense layers, output layer included.
  int depth() const noexcept { return static_cast<int>(widths_.size()); }
  const std::vector<std::int64_t>& widths() const noexcept { return widths_; }
  std::int64_t parameters() const noexcept { return parameters_; }
  /// Bytes of the parameters.
  std::int64_t parameter_bytes() const noexcept { return parameters_ * bytes_per_value; }
  /// `[inputs, w_1, ..., w_D]`.
  std::vector<std::int64_t> full_widths() const {
    std::vector<std::int64_t> full{inputs_};
    full.insert(full.end(), widths_.begin(), widths_.end());
    return full;
  }

  /// @brief The authors' operation counts for one batch of `batch` examples (docs/model.md s. 4).
  batch_operations operations(std::int64_t batch) const noexcept {
    return batch_operations_of(inputs_, widths_, parameters_, batch);
  }

  friend bool operator==(const mlp&, const mlp&) = default;

 private:
  std::int64_t inputs_;
  std::vector<std::int64_t> widths_;
  std::int64_t parameters_ = 0;
};

}  // namespace wsenergy
