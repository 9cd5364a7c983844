// Mnemonics for DNS numbers: types, classes, rcodes, header flags.
#pragma once

#include <cstdint>
#include <string>

namespace dnsvis {

std::string dns_type_name(uint16_t type);    // "A", "AAAA", "TYPE65534" (RFC 3597)
std::string dns_class_name(uint16_t klass);  // "IN", "CH", "CLASS42"
std::string dns_rcode_name(uint16_t rcode);  // "NOERROR", "NXDOMAIN", "RCODE23"
// The set header flags, space separated, in the order "qr aa tc rd ra ad cd";
// only those set. QR is left out: every reported exchange has one of each.
std::string dns_flags_string(uint16_t flags);

}  // namespace dnsvis
