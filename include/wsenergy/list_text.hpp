#pragma once
/// @file list_text.hpp
/// @brief Comma-separated lists as the library reads them (term lists, sizes, run filters).
/// Standard library only.

#include <cstddef>
#include <string_view>

namespace wsenergy::detail {

/// Calls `item(std::string_view)` for each comma-separated item of `text`, empty items included
/// (so `"a,,b"` and `""` reach the caller, which says why they are wrong).
template <typename Item>
void for_each_list_item(std::string_view text, Item&& item) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    item(text.substr(start, comma - start));
    start = comma + 1;
  }
}

}  // namespace wsenergy::detail
