#include "dns_names.hpp"

#include <charconv>
#include <string_view>

#include "dns_message.hpp"

namespace dnsvis {

namespace {

std::string_view type_mnemonic(uint16_t type) {
    switch (type) {
    case 1: return "A";
    case 2: return "NS";
    case 3: return "MD";
    case 4: return "MF";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 7: return "MB";
    case 8: return "MG";
    case 9: return "MR";
    case 10: return "NULL";
    case 11: return "WKS";
    case 12: return "PTR";
    case 13: return "HINFO";
    case 14: return "MINFO";
    case 15: return "MX";
    case 16: return "TXT";
    case 17: return "RP";
    case 18: return "AFSDB";
    case 19: return "X25";
    case 20: return "ISDN";
    case 21: return "RT";
    case 22: return "NSAP";
    case 23: return "NSAP-PTR";
    case 24: return "SIG";
    case 25: return "KEY";
    case 26: return "PX";
    case 27: return "GPOS";
    case 28: return "AAAA";
    case 29: return "LOC";
    case 30: return "NXT";
    case 31: return "EID";
    case 32: return "NIMLOC";
    case 33: return "SRV";
    case 34: return "ATMA";
    case 35: return "NAPTR";
    case 36: return "KX";
    case 37: return "CERT";
    case 38: return "A6";
    case 39: return "DNAME";
    case 40: return "SINK";
    case 41: return "OPT";
    case 42: return "APL";
    case 43: return "DS";
    case 44: return "SSHFP";
    case 45: return "IPSECKEY";
    case 46: return "RRSIG";
    case 47: return "NSEC";
    case 48: return "DNSKEY";
    case 49: return "DHCID";
    case 50: return "NSEC3";
    case 51: return "NSEC3PARAM";
    case 52: return "TLSA";
    case 53: return "SMIMEA";
    case 55: return "HIP";
    case 56: return "NINFO";
    case 57: return "RKEY";
    case 58: return "TALINK";
    case 59: return "CDS";
    case 60: return "CDNSKEY";
    case 61: return "OPENPGPKEY";
    case 62: return "CSYNC";
    case 63: return "ZONEMD";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 66: return "DSYNC";
    case 99: return "SPF";
    case 104: return "NID";
    case 105: return "L32";
    case 106: return "L64";
    case 107: return "LP";
    case 108: return "EUI48";
    case 109: return "EUI64";
    case 249: return "TKEY";
    case 250: return "TSIG";
    case 251: return "IXFR";
    case 252: return "AXFR";
    case 253: return "MAILB";
    case 254: return "MAILA";
    case 255: return "ANY";
    case 256: return "URI";
    case 257: return "CAA";
    case 258: return "AVC";
    case 259: return "DOA";
    case 260: return "AMTRELAY";
    case 261: return "RESINFO";
    case 32768: return "TA";
    case 32769: return "DLV";
    default: return {};
    }
}

std::string_view class_mnemonic(uint16_t klass) {
    switch (klass) {
    case 1: return "IN";
    case 3: return "CH";
    case 4: return "HS";
    case 254: return "NONE";
    case 255: return "ANY";
    default: return {};
    }
}

std::string_view rcode_mnemonic(uint16_t rcode) {
    switch (rcode) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    case 6: return "YXDOMAIN";
    case 7: return "YXRRSET";
    case 8: return "NXRRSET";
    case 9: return "NOTAUTH";
    case 10: return "NOTZONE";
    case 11: return "DSOTYPENI";
    case 16: return "BADVERS";
    case 17: return "BADKEY";
    case 18: return "BADTIME";
    case 19: return "BADMODE";
    case 20: return "BADNAME";
    case 21: return "BADALG";
    case 22: return "BADTRUNC";
    case 23: return "BADCOOKIE";
    default: return {};
    }
}

// The RFC 3597 style fallback ("TYPE65534"): a prefix and the number.
std::string numbered(std::string_view prefix, uint16_t value) {
    char buffer[16];
    char* p = buffer;
    for (char c : prefix) *p++ = c;
    p = std::to_chars(p, buffer + sizeof buffer, value).ptr;
    return std::string(buffer, static_cast<size_t>(p - buffer));
}

}  // namespace

std::string dns_type_name(uint16_t type) {
    std::string_view name = type_mnemonic(type);
    return name.empty() ? numbered("TYPE", type) : std::string(name);
}

std::string dns_class_name(uint16_t klass) {
    std::string_view name = class_mnemonic(klass);
    return name.empty() ? numbered("CLASS", klass) : std::string(name);
}

std::string dns_rcode_name(uint16_t rcode) {
    std::string_view name = rcode_mnemonic(rcode);
    return name.empty() ? numbered("RCODE", rcode) : std::string(name);
}

std::string dns_flags_string(uint16_t flags) {
    static constexpr struct {
        uint16_t bit;
        std::string_view name;
    } known[] = {
        {dns_flag::aa, "aa"}, {dns_flag::tc, "tc"}, {dns_flag::rd, "rd"},
        {dns_flag::ra, "ra"}, {dns_flag::ad, "ad"}, {dns_flag::cd, "cd"},
    };
    std::string out;
    for (const auto& flag : known) {
        if ((flags & flag.bit) == 0) continue;
        if (!out.empty()) out += ' ';
        out += flag.name;
    }
    return out;
}

}  // namespace dnsvis
