#include "utf8_text.hpp"

namespace dnsvis {

namespace {

enum class Controls { keep, escape };

std::string escaped(std::string_view text, Controls controls) {
    std::string out;
    out.reserve(text.size());
    char hex[4];
    for (size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        const bool control = byte < 0x20 || byte == 0x7f;
        if (byte != 0 && byte < 0x80 && !(control && controls == Controls::escape)) {
            out += static_cast<char>(byte);
            ++i;
            continue;
        }
        const size_t length = byte >= 0x80 ? utf8_sequence_length(text.substr(i)) : 0;
        // U+0080..U+009F, the C1 controls, are 0xc2 0x80..0x9f.
        const bool c1 = length == 2 && byte == 0xc2 && static_cast<unsigned char>(text[i + 1]) <= 0x9f;
        if (length > 0 && !(c1 && controls == Controls::escape)) {
            out.append(text, i, length);
            i += length;
            continue;
        }
        const size_t count = length > 0 ? length : 1;  // a C1 control: both its bytes
        for (size_t k = 0; k < count; ++k)
            out.append(hex, put_hex_escape(hex, static_cast<unsigned char>(text[i + k])));
        i += count;
    }
    return out;
}

}  // namespace

bool is_bus_text(std::string_view text) {
    for (size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte == 0)
            return false;
        if (byte < 0x80) {
            ++i;
            continue;
        }
        const size_t length = utf8_sequence_length(text.substr(i));
        if (length == 0)
            return false;
        i += length;
    }
    return true;
}

std::string bus_text(std::string_view text) { return escaped(text, Controls::keep); }

std::string terminal_text(std::string_view text) { return escaped(text, Controls::escape); }

char* put_hex_escape(char* out, unsigned char byte) {
    static constexpr char hex[] = "0123456789abcdef";
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[byte >> 4];
    out[3] = hex[byte & 0xf];
    return out + 4;
}

}  // namespace dnsvis
