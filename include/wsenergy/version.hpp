#pragma once
/// @file version.hpp
/// @brief The library version. This header is the one place the version is written: CMake reads
/// it for `project(VERSION)`, the package version file and the pkg-config file.

#define WSENERGY_VERSION_MAJOR 0
#define WSENERGY_VERSION_MINOR 1
#define WSENERGY_VERSION_PATCH 0

#define WSENERGY_DETAIL_TEXT(x) #x
#define WSENERGY_DETAIL_VERSION(a, b, c) WSENERGY_DETAIL_TEXT(a) "." WSENERGY_DETAIL_TEXT(b) "." WSENERGY_DETAIL_TEXT(c)

namespace wsenergy {
/// @brief The version as text, e.g. "0.1.0".
inline constexpr const char* version =
    WSENERGY_DETAIL_VERSION(WSENERGY_VERSION_MAJOR, WSENERGY_VERSION_MINOR, WSENERGY_VERSION_PATCH);
}  // namespace wsenergy
