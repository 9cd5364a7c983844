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
// noncharacter (U+FDD0..U+FDEF, U+xxFFFE, U+xxFFFF).
size_t utf8_sequence_length(std::string_view text);

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
