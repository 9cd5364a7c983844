// Entries in journald's native protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL):
// one datagram per entry, one field after the other, each either
// "NAME=value\n" or, when the value holds a newline, "NAME\n", the value's
// length as 64-bit little-endian, the value and "\n".
//
// This is what sd_journal_sendv() sends; written into one contiguous
// buffer, an entry goes to the kernel as one piece (see journal_sink.hpp).
#pragma once

#include <string>
#include <string_view>

namespace dnsvis {

// Appends one field. `name` must be a journal field name.
void append_journal_field(std::string& out, std::string_view name, std::string_view value);

}  // namespace dnsvis
