// Case-insensitive comparison of ASCII text (config keys and words, DNS
// names): only 'A'..'Z' fold, every other byte compares as it is, whatever
// the locale.
#pragma once

#include <cstddef>
#include <string_view>

namespace dnsvis {

inline char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

inline bool ascii_iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

}  // namespace dnsvis
