#include "utf8_text.hpp"

namespace dnsvis {

namespace {

bool continuation(unsigned char byte) { return (byte & 0xc0) == 0x80; }

bool noncharacter(uint32_t code_point) {
    return (code_point >= 0xfdd0 && code_point <= 0xfdef) || (code_point & 0xfffe) == 0xfffe;
}

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

size_t utf8_sequence_length(std::string_view text) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    if (n == 0 || s[0] < 0xc2 || s[0] > 0xf4)
        return 0;  // ASCII, a continuation byte, an overlong lead (0xc0, 0xc1) or beyond U+10FFFF
    const size_t length = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
    if (n < length)
        return 0;
    for (size_t k = 1; k < length; ++k)
        if (!continuation(s[k]))
            return 0;
    uint32_t code_point = s[0] & (0x7f >> length);
    for (size_t k = 1; k < length; ++k)
        code_point = (code_point << 6) | (s[k] & 0x3f);
    constexpr uint32_t shortest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < shortest[length] || code_point > 0x10ffff)
        return 0;
    if ((code_point >= 0xd800 && code_point <= 0xdfff) || noncharacter(code_point))
        return 0;
    return length;
}

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
