#include "journal_native.hpp"

#include <cstdint>

namespace dnsvis {

void append_journal_field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    if (value.find('\n') == std::string_view::npos) {
        out += '=';
        out += value;
    } else {
        out += '\n';
        uint64_t length = value.size();
        for (int i = 0; i < 8; ++i, length >>= 8)
            out += static_cast<char>(length & 0xff);  // little-endian whatever the host
        out += value;
    }
    out += '\n';
}

}  // namespace dnsvis
