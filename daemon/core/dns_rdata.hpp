// Rendering of record data into presentation form.
//
// A, AAAA, CNAME, NS, PTR, MX, TXT, SRV, SOA, HTTPS and SVCB get their usual
// zone-file form; every other type is rendered in RFC 3597 form
// ("\# 4 0a000001"). Names inside rdata may be compressed, so rendering needs
// the whole message.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "dns_parser.hpp"

namespace dnsvis {

// Renders the rdata at [offset, offset+length) of `message` (the whole DNS
// message) for a record of `type`. Returns ok and sets `out`, or an error.
DnsParseStatus render_rdata(std::span<const uint8_t> message, size_t offset, uint16_t length,
                            uint16_t type, std::string& out);

}  // namespace dnsvis
