// A parsed DNS message. Plain data: the parser fills it, the transaction
// table and the field formatter read it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dnsvis {

struct DnsQuestion {
    std::string name;  // presentation form, lower case, no trailing dot; root is "."
    uint16_t type = 0;
    uint16_t klass = 0;
};

struct DnsRecord {
    std::string name;  // presentation form, lower case, no trailing dot; empty at DnsParseDepth::reported
    uint16_t type = 0;
    uint16_t klass = 0;
    uint32_t ttl = 0;
    std::string data;  // rendered rdata (see dns_rdata.hpp)
};

// EDNS(0) information from an OPT pseudo-record in the additional section.
struct EdnsInfo {
    uint16_t udp_payload_size = 0;
    uint8_t extended_rcode = 0;  // upper 8 bits of the 12-bit rcode
    uint8_t version = 0;
    bool dnssec_ok = false;
};

// Header flag bits, as in the second 16-bit word of the header.
namespace dns_flag {
inline constexpr uint16_t qr = 0x8000;
inline constexpr uint16_t aa = 0x0400;
inline constexpr uint16_t tc = 0x0200;
inline constexpr uint16_t rd = 0x0100;
inline constexpr uint16_t ra = 0x0080;
inline constexpr uint16_t ad = 0x0020;
inline constexpr uint16_t cd = 0x0010;
}  // namespace dns_flag

struct DnsMessage {
    uint16_t id = 0;
    uint16_t flags = 0;  // the whole second header word (QR, opcode, flags, rcode)
    uint16_t question_count = 0;
    uint16_t answer_count = 0;
    uint16_t authority_count = 0;
    uint16_t additional_count = 0;

    std::vector<DnsQuestion> questions;
    std::vector<DnsRecord> answers;
    // Both left empty at DnsParseDepth::reported.
    std::vector<DnsRecord> authority;
    std::vector<DnsRecord> additional;  // without the OPT record
    std::optional<EdnsInfo> edns;

    bool is_response() const { return (flags & dns_flag::qr) != 0; }
    uint8_t opcode() const { return static_cast<uint8_t>((flags >> 11) & 0xf); }
    // The full rcode: 4 header bits, extended by EDNS to 12 bits.
    uint16_t rcode() const {
        uint16_t low = flags & 0xf;
        return edns ? static_cast<uint16_t>((edns->extended_rcode << 4) | low) : low;
    }
    // The text the parse rendered: question names, the records' owner
    // names and data. dns_text_budget() bounds it.
    size_t rendered_text_size() const;
    void clear();
};

}  // namespace dnsvis
