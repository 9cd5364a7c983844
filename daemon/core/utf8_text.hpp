// Text that other processes chose is bytes, not UTF-8: a process's name, an
// executable's path, a cgroup's name or a runtime's label may hold any byte
// but NUL (prctl(PR_SET_NAME) takes "\xff"). The journal keeps such values
// as they are; JSON and D-Bus need valid UTF-8 (sd-bus refuses to send a
// string that is not, which would cost the whole Transaction signal), and a
// terminal acts on control bytes. There, a byte that cannot go as it is
// goes as the four characters \xNN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dnsvis {

// The length (2 to 4) of the UTF-8 sequence at the start of `text`, whose
// first byte is 0x80 or above, or 0 when it is none. Valid as sd-bus
// counts it: shortest form, no surrogate, nothing above U+10FFFF and no
// noncharacter (U+FDD0..U+FDEF, U+xxFFFE, U+xxFFFF). Inline: the JSON
// writer asks it for every non-ASCII character (MESSAGE has an arrow).
inline size_t utf8_sequence_length(std::string_view text) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    if (n == 0 || s[0] < 0xc2 || s[0] > 0xf4)
        return 0;  // ASCII, a continuation byte, an overlong lead (0xc0, 0xc1) or beyond U+10FFFF
    const size_t length = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
    if (n < length)
        return 0;
    uint32_t code_point = s[0] & (0x7f >> length);
    for (size_t k = 1; k < length; ++k) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        code_point = (code_point << 6) | (s[k] & 0x3f);
    }
    constexpr uint32_t shortest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < shortest[length] || code_point > 0x10ffff)
        return 0;
    if ((code_point >= 0xd800 && code_point <= 0xdfff) || (code_point >= 0xfdd0 && code_point <= 0xfdef) ||
        (code_point & 0xfffe) == 0xfffe)
        return 0;
    return length;
}

// Valid UTF-8 without NUL: what a D-Bus string may hold.
bool is_bus_text(std::string_view text);

// `text` with every byte that is not part of valid UTF-8, and NUL, as \xNN.
std::string bus_text(std::string_view text);

// The same, and also the control characters a terminal would act on
// (C0, DEL and C1: U+0000..U+001F, U+007F..U+009F) as \xNN of their bytes.
std::string terminal_text(std::string_view text);

// Writes \xNN for `byte` at `out` (4 bytes).
char* put_hex_escape(char* out, unsigned char byte);

}  // namespace dnsvis
