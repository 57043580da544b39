#pragma once
/// @file version.hpp
/// @brief The library version.

#define WSENERGY_VERSION_MAJOR 0
#define WSENERGY_VERSION_MINOR 1
#define WSENERGY_VERSION_PATCH 0

namespace wsenergy {
/// @brief The version as text, e.g. "0.1.0".
inline constexpr const char* version = "0.1.0";
}  // namespace wsenergy
