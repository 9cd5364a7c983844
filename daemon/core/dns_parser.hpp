// DNS wire-format parser for untrusted bytes (RFC 1035, 3597, 6891, 9460).
//
// Hostile input is the normal case here: every length is checked, names are
// limited to 255 bytes and labels to 63, and compression pointers must point
// strictly backwards, so no loop is possible.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "dns_message.hpp"

namespace dnsvis {

enum class DnsParseStatus : uint8_t {
    ok,
    too_short,         // fewer than 12 bytes: no header
    truncated,         // the message ends inside a name, record or rdata
    label_too_long,    // a label over 63 bytes
    name_too_long,     // a name over 255 bytes in wire form
    bad_pointer,       // a compression pointer that does not point strictly backwards
    bad_label_type,    // label type 0x40 or 0x80 (reserved / obsolete)
    bad_rdata,         // rdata inconsistent with its type (e.g. A with 5 bytes)
    trailing_garbage,  // not used as an error today; reserved
};

std::string_view to_string(DnsParseStatus status);

// How much of a message parse_dns_message() renders into text. Rendering
// names and rdata is most of its cost, and the daemon reports only part of
// what a response holds.
enum class DnsParseDepth : uint8_t {
    // Everything: every question and record, names and rdata rendered.
    full,
    // What dnsvisd reports: the header, the questions, EDNS, and for each
    // answer its type, class, ttl and rendered rdata, with `name` left empty.
    // Authority and additional records are checked (owner name, fixed
    // fields, rdata within the message) but neither rendered nor kept: those
    // vectors stay empty. The OPT record still fills `edns`.
    //
    // The status is the one `full` gives, with one exception: rdata is not
    // rendered outside the answer section, so what only rendering finds goes
    // unnoticed there: bad_rdata, and a bad name inside the rdata (of an NS,
    // SOA, MX, ...: bad_pointer, bad_label_type, name_too_long). The parse
    // goes on to the next record, and may then find the OPT record, or a
    // later error, where `full` stopped.
    reported,
};

// Parses `wire` into `out` (which is cleared first). On error, `out` keeps
// everything parsed before the error: the header when status != too_short,
// and every question and record that was complete.
DnsParseStatus parse_dns_message(std::span<const uint8_t> wire, DnsMessage& out,
                                 DnsParseDepth depth = DnsParseDepth::full);

}  // namespace dnsvis
