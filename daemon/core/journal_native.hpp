// Entries in journald's native protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL):
// one datagram per entry, one field after the other, each either
// "NAME=value\n" or, when the value holds a newline, "NAME\n", the value's
// length as 64-bit little-endian, the value and "\n".
//
// This is what sd_journal_sendv() sends; writing it into one contiguous
// buffer instead of handing over a list of "NAME=value" strings spares the
// two iovecs per field it passes to the kernel, where each costs a share
// of the send (see journal_sink.hpp).
#pragma once

#include <string>
#include <string_view>

#include "transaction_fields.hpp"

namespace dnsvis {

// Appends one field. `name` must be a journal field name.
void append_journal_field(std::string& out, std::string_view name, std::string_view value);

// Collects an entry's fields in the native format, in a buffer that keeps
// its memory from entry to entry.
class JournalEntryWriter final : public FieldWriter {
public:
    void clear() { buffer_.clear(); }
    void add(std::string_view name, std::string_view value) override { append_journal_field(buffer_, name, value); }
    std::string_view text() const { return buffer_; }

private:
    std::string buffer_;
};

}  // namespace dnsvis
