// Mnemonics for DNS numbers: types, classes, rcodes, header flags.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dnsvis {

// A mnemonic, or the RFC 3597 style fallback built from the number, held by
// value: every transaction needs three of them, and none should allocate.
class DnsMnemonic {
public:
    DnsMnemonic(std::string_view known) : known_(known) {}
    DnsMnemonic(std::string_view prefix, uint16_t number);

    std::string_view view() const { return known_.data() ? known_ : std::string_view(built_, built_size_); }
    operator std::string_view() const { return view(); }
    bool empty() const { return view().empty(); }
    size_t size() const { return view().size(); }
    friend bool operator==(const DnsMnemonic& a, std::string_view b) { return a.view() == b; }

private:
    std::string_view known_;  // a name from the tables, or null
    char built_[16] = {};     // "CLASS65535" at most
    uint8_t built_size_ = 0;
};

DnsMnemonic dns_type_name(uint16_t type);    // "A", "AAAA", "TYPE65534" (RFC 3597)
DnsMnemonic dns_class_name(uint16_t klass);  // "IN", "CH", "CLASS42"
DnsMnemonic dns_rcode_name(uint16_t rcode);  // "NOERROR", "NXDOMAIN", "RCODE23"
// The set header flags, space separated, in the order "qr aa tc rd ra ad cd";
// only those set. QR is left out: every reported exchange has one of each.
std::string dns_flags_string(uint16_t flags);
void append_dns_flags(std::string& out, uint16_t flags);

}  // namespace dnsvis
