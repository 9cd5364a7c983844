// DNS wire-format parser for untrusted bytes (RFC 1035, 3597, 6891, 9460).
//
// Hostile input is the normal case here: every length is checked, names are
// limited to 255 bytes and labels to 63, and compression pointers must point
// strictly backwards, so no loop is possible. Compression can still make the
// text far larger than the message (thousands of records pointing at one
// long name), so the text one parse renders is bounded too.
#pragma once

#include <cstddef>
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
    bad_pointer,       // a compression pointer that does not point strictly backwards,
                       // or more than max_pointer_jumps of them in one name
    bad_label_type,    // label type 0x40 or 0x80 (reserved / obsolete)
    bad_rdata,         // rdata inconsistent with its type (e.g. A with 5 bytes)
    over_text_budget,  // the text rendered would exceed dns_text_budget(): a compression bomb
    trailing_garbage,  // not used as an error today; reserved
};

std::string_view to_string(DnsParseStatus status);

// How much of a message parse_dns_message() renders into text. Rendering
// names and rdata is most of its cost, and the daemon reports only part of
// what a response holds.
enum class DnsParseDepth : uint8_t {
    // Everything: every question and record, names and rdata rendered.
    full,
    // What dnsvisd reports: the header, the first question, EDNS, and for
    // each answer its type, class, ttl and rendered rdata, with `name` left
    // empty. Further questions are checked (name and fixed fields, giving the
    // status `full` gives) but not kept: a message may carry thousands of
    // them, all compressed against one long name, and the daemon uses only
    // the first. `question_count` is still the count from the header.
    // Authority and additional records are checked (owner name, fixed
    // fields, rdata within the message) but neither rendered nor kept: those
    // vectors stay empty. The OPT record still fills `edns`.
    //
    // The status is the one `full` gives, with two exceptions. First, rdata
    // is not rendered outside the answer section, so what only rendering
    // finds goes unnoticed there: bad_rdata, and a bad name inside the rdata
    // (of an NS, SOA, MX, ...: bad_pointer, bad_label_type, name_too_long).
    // Second, less text is rendered, so where `full` gave over_text_budget
    // the budget may run out later or not at all (never sooner). In both
    // cases the parse goes on, and may then find more answers, the OPT
    // record, or a later error, where `full` stopped.
    reported,
};

// How much text one parse of a `wire_size`-byte message may render: names
// of questions and records, and rdata. Without compression the text is at
// most about four times the wire (an escape such as \DDD turns one byte into
// four characters); only reusing names through pointers goes beyond that,
// and real messages do not reuse long names thousands of times. The constant
// leaves a small message room for a few long escaped names.
constexpr size_t dns_text_budget(size_t wire_size) { return 8 * wire_size + 4096; }

// Parses `wire` into `out` (which is cleared first). On error, `out` keeps
// everything parsed before the error: the header when status != too_short,
// and every question and record that was complete. The question or record
// that would take the text over dns_text_budget() is not kept: the parse
// stops there with over_text_budget.
DnsParseStatus parse_dns_message(std::span<const uint8_t> wire, DnsMessage& out,
                                 DnsParseDepth depth = DnsParseDepth::full);

}  // namespace dnsvis
