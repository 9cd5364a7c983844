// Reading a domain name from DNS wire format into presentation form, or
// only checking it.
//
// Shared by the message parser (owner names, questions) and the rdata
// renderer (names inside CNAME, MX, SOA, ...), which is why it works on the
// whole message: a compression pointer may lead anywhere earlier in it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "dns_parser.hpp"

namespace dnsvis {

// The longest name in wire form, length octets and root label included.
inline constexpr size_t max_wire_name_length = 255;

// The most compression pointers followed while reading one name. An encoder
// needs at most one jump per label plus one, and a 255-byte name has at most
// 127 labels; without a cap, a chain of thousands of pointers each two bytes
// back (legal, as each points strictly backwards) costs every name that
// enters it thousands of jumps.
inline constexpr size_t max_pointer_jumps = 128;

// Reads the name starting at `offset` of `message` and appends its
// presentation form to `out`: ASCII lower case, no trailing dot, "." for the
// root, and zone-file escapes (\. \\ \DDD) for '.', '\' and bytes outside
// 0x21..0x7e inside a label.
//
// Compression pointers must point strictly before the start of the run of
// labels that contains them (and so before the pointer itself); every jump
// therefore lowers the limit and no loop is possible. More than
// max_pointer_jumps jumps in one name is bad_pointer too.
//
// On success sets `end` to the offset just past the name where it was
// written (past the first pointer if there was one). On error `out` and `end`
// are left untouched.
DnsParseStatus append_wire_name(std::span<const uint8_t> message, size_t offset, std::string& out, size_t& end);

// Checks the name starting at `offset` exactly as append_wire_name() does
// (same status for every input, same `end`) without producing its text: for
// names that must be stepped over and validated but are never shown.
DnsParseStatus skip_wire_name(std::span<const uint8_t> message, size_t offset, size_t& end);

}  // namespace dnsvis
