#include "dns_names.hpp"

#include <algorithm>
#include <charconv>
#include <span>
#include <string_view>

#include "dns_message.hpp"

namespace dnsvis {

namespace {

struct Mnemonic {
    uint16_t number;
    std::string_view name;
};

// IANA "Domain Name System (DNS) Parameters", sorted by number.
constexpr Mnemonic types[] = {
    {1, "A"},         {2, "NS"},      {3, "MD"},          {4, "MF"},     {5, "CNAME"},     {6, "SOA"},
    {7, "MB"},        {8, "MG"},      {9, "MR"},          {10, "NULL"},  {11, "WKS"},      {12, "PTR"},
    {13, "HINFO"},    {14, "MINFO"},  {15, "MX"},         {16, "TXT"},   {17, "RP"},       {18, "AFSDB"},
    {19, "X25"},      {20, "ISDN"},   {21, "RT"},         {22, "NSAP"},  {23, "NSAP-PTR"}, {24, "SIG"},
    {25, "KEY"},      {26, "PX"},     {27, "GPOS"},       {28, "AAAA"},  {29, "LOC"},      {30, "NXT"},
    {31, "EID"},      {32, "NIMLOC"}, {33, "SRV"},        {34, "ATMA"},  {35, "NAPTR"},    {36, "KX"},
    {37, "CERT"},     {38, "A6"},     {39, "DNAME"},      {40, "SINK"},  {41, "OPT"},      {42, "APL"},
    {43, "DS"},       {44, "SSHFP"},  {45, "IPSECKEY"},   {46, "RRSIG"}, {47, "NSEC"},     {48, "DNSKEY"},
    {49, "DHCID"},    {50, "NSEC3"},  {51, "NSEC3PARAM"}, {52, "TLSA"},  {53, "SMIMEA"},   {55, "HIP"},
    {56, "NINFO"},    {57, "RKEY"},   {58, "TALINK"},     {59, "CDS"},   {60, "CDNSKEY"},  {61, "OPENPGPKEY"},
    {62, "CSYNC"},    {63, "ZONEMD"}, {64, "SVCB"},       {65, "HTTPS"}, {66, "DSYNC"},    {99, "SPF"},
    {104, "NID"},     {105, "L32"},   {106, "L64"},       {107, "LP"},   {108, "EUI48"},   {109, "EUI64"},
    {249, "TKEY"},    {250, "TSIG"},  {251, "IXFR"},      {252, "AXFR"}, {253, "MAILB"},   {254, "MAILA"},
    {255, "ANY"},     {256, "URI"},   {257, "CAA"},       {258, "AVC"},  {259, "DOA"},     {260, "AMTRELAY"},
    {261, "RESINFO"}, {32768, "TA"},  {32769, "DLV"},
};

constexpr Mnemonic classes[] = {
    {1, "IN"}, {3, "CH"}, {4, "HS"}, {254, "NONE"}, {255, "ANY"},
};

// Header rcodes (0-15) and their EDNS extensions (16 and up).
constexpr Mnemonic rcodes[] = {
    {0, "NOERROR"},  {1, "FORMERR"},    {2, "SERVFAIL"}, {3, "NXDOMAIN"},  {4, "NOTIMP"},
    {5, "REFUSED"},  {6, "YXDOMAIN"},   {7, "YXRRSET"},  {8, "NXRRSET"},   {9, "NOTAUTH"},
    {10, "NOTZONE"}, {11, "DSOTYPENI"}, {16, "BADVERS"}, {17, "BADKEY"},   {18, "BADTIME"},
    {19, "BADMODE"}, {20, "BADNAME"},   {21, "BADALG"},  {22, "BADTRUNC"}, {23, "BADCOOKIE"},
};

constexpr bool sorted(std::span<const Mnemonic> table) {
    for (size_t i = 1; i < table.size(); ++i) {
        if (table[i - 1].number >= table[i].number)
            return false;
    }
    return true;
}
static_assert(sorted(types) && sorted(classes) && sorted(rcodes), "lookup is a binary search");

DnsMnemonic lookup(std::span<const Mnemonic> table, uint16_t number, std::string_view prefix) {
    auto it = std::lower_bound(table.begin(), table.end(), number,
                               [](const Mnemonic& m, uint16_t n) { return m.number < n; });
    if (it != table.end() && it->number == number)
        return DnsMnemonic(it->name);
    return DnsMnemonic(prefix, number);
}

}  // namespace

DnsMnemonic::DnsMnemonic(std::string_view prefix, uint16_t number) {
    char* p = std::copy(prefix.begin(), prefix.end(), built_);
    p = std::to_chars(p, built_ + sizeof built_, number).ptr;
    built_size_ = static_cast<uint8_t>(p - built_);
}

DnsMnemonic dns_type_name(uint16_t type) {
    return lookup(types, type, "TYPE");
}

DnsMnemonic dns_class_name(uint16_t klass) {
    return lookup(classes, klass, "CLASS");
}

DnsMnemonic dns_rcode_name(uint16_t rcode) {
    return lookup(rcodes, rcode, "RCODE");
}

void append_dns_flags(std::string& out, uint16_t flags) {
    static constexpr Mnemonic known[] = {
        {dns_flag::aa, "aa"}, {dns_flag::tc, "tc"}, {dns_flag::rd, "rd"},
        {dns_flag::ra, "ra"}, {dns_flag::ad, "ad"}, {dns_flag::cd, "cd"},
    };
    bool first = true;
    for (const auto& flag : known) {
        if ((flags & flag.number) == 0)
            continue;
        if (!first)
            out += ' ';
        first = false;
        out += flag.name;
    }
}

std::string dns_flags_string(uint16_t flags) {
    std::string out;
    append_dns_flags(out, flags);
    return out;
}

}  // namespace dnsvis
