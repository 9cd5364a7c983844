// Tests for render_rdata (every rendered type, RFC 3597 for the rest) and
// for the mnemonics of dns_names.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "dns_names.hpp"
#include "dns_rdata.hpp"

using namespace dnsvis;

namespace {

constexpr uint16_t t_a = 1, t_ns = 2, t_cname = 5, t_soa = 6, t_ptr = 12, t_mx = 15, t_txt = 16, t_aaaa = 28,
                   t_srv = 33, t_svcb = 64, t_https = 65, t_caa = 257;

// Rdata bytes, built field by field.
class Bytes {
public:
    Bytes() = default;
    Bytes(std::initializer_list<uint8_t> v) : bytes_(v) {}
    Bytes& u8(uint8_t v) {
        bytes_.push_back(v);
        return *this;
    }
    Bytes& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
    Bytes& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
    Bytes& raw(std::initializer_list<uint8_t> v) {
        bytes_.insert(bytes_.end(), v);
        return *this;
    }
    Bytes& raw(std::string_view s) {
        bytes_.insert(bytes_.end(), s.begin(), s.end());
        return *this;
    }
    Bytes& str(std::string_view s) {  // a <character-string>
        u8(static_cast<uint8_t>(s.size()));
        return raw(s);
    }
    Bytes& labels(std::string_view dotted) {
        while (!dotted.empty()) {
            size_t dot = dotted.find('.');
            str(dotted.substr(0, dot));
            dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
        }
        return *this;
    }
    Bytes& name(std::string_view dotted) {
        if (dotted != ".")
            labels(dotted);
        return u8(0);
    }
    Bytes& pointer(size_t offset) { return u16(static_cast<uint16_t>(0xc000 | offset)); }
    // An SvcParam: key, length, value.
    Bytes& param(uint16_t key, const Bytes& value) {
        u16(key).u16(static_cast<uint16_t>(value.size()));
        bytes_.insert(bytes_.end(), value.bytes_.begin(), value.bytes_.end());
        return *this;
    }
    size_t size() const { return bytes_.size(); }
    const std::vector<uint8_t>& vec() const { return bytes_; }

private:
    std::vector<uint8_t> bytes_;
};

// Renders `rdata` placed after `before` (what a compression pointer in the
// rdata may refer to) and followed by `after` (the rest of the message, which
// the rdata must not reach into). Returns the text, or "<status>".
std::string render(uint16_t type, const Bytes& rdata, const Bytes& before = {}, const Bytes& after = {}) {
    std::vector<uint8_t> message = before.vec();
    message.insert(message.end(), rdata.vec().begin(), rdata.vec().end());
    message.insert(message.end(), after.vec().begin(), after.vec().end());
    std::string out = "stale";
    DnsParseStatus s = render_rdata(std::span<const uint8_t>(message.data(), message.size()), before.size(),
                                    static_cast<uint16_t>(rdata.size()), type, out);
    if (s != DnsParseStatus::ok) {
        CHECK(out.empty());
        return "<" + std::string(to_string(s)) + ">";
    }
    return out;
}

// The 12 bytes of a header then "example.test" at offset 12, so rdata can
// point there.
Bytes message_start() {
    Bytes b;
    for (int i = 0; i < 12; ++i)
        b.u8(0);
    return b.name("example.test");
}

}  // namespace

TEST_CASE("A") {
    CHECK(render(t_a, {192, 0, 2, 1}) == "192.0.2.1");
    CHECK(render(t_a, {0, 0, 0, 0}) == "0.0.0.0");
    CHECK(render(t_a, {255, 255, 255, 255}) == "255.255.255.255");
    CHECK(render(t_a, {10, 0, 0}) == "<bad-rdata>");
    CHECK(render(t_a, {10, 0, 0, 1, 0}) == "<bad-rdata>");
    CHECK(render(t_a, {}) == "<bad-rdata>");
}

TEST_CASE("AAAA, RFC 5952") {
    auto v6 = [](std::initializer_list<uint16_t> groups) {
        Bytes b;
        for (uint16_t g : groups)
            b.u16(g);
        return b;
    };
    CHECK(render(t_aaaa, v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})) == "2001:db8::1");
    CHECK(render(t_aaaa, v6({0, 0, 0, 0, 0, 0, 0, 0})) == "::");
    CHECK(render(t_aaaa, v6({0, 0, 0, 0, 0, 0, 0, 1})) == "::1");
    CHECK(render(t_aaaa, v6({0xfe80, 0, 0, 0, 0, 0, 0, 0})) == "fe80::");
    // A single zero group is not shortened; the longest run is; on a tie the first.
    CHECK(render(t_aaaa, v6({0x2001, 0xdb8, 0, 1, 1, 1, 1, 1})) == "2001:db8:0:1:1:1:1:1");
    CHECK(render(t_aaaa, v6({0x2001, 0, 0, 1, 0, 0, 0, 1})) == "2001:0:0:1::1");
    CHECK(render(t_aaaa, v6({0x2001, 0xdb8, 0, 0, 1, 0, 0, 1})) == "2001:db8::1:0:0:1");
    CHECK(render(t_aaaa, v6({0x2001, 0xDB8, 0xABCD, 0, 0, 0, 0, 0xEF})) == "2001:db8:abcd::ef");
    CHECK(render(t_aaaa, v6({0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201})) == "::ffff:192.0.2.1");
    CHECK(render(t_aaaa, Bytes{1, 2, 3}) == "<bad-rdata>");
    Bytes seventeen = v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1});
    seventeen.u8(0);
    CHECK(render(t_aaaa, seventeen) == "<bad-rdata>");
}

TEST_CASE("CNAME, NS, PTR: a name") {
    for (uint16_t type : {t_cname, t_ns, t_ptr}) {
        CAPTURE(type);
        CHECK(render(type, Bytes().name("WWW.Example.Test")) == "www.example.test");
        CHECK(render(type, Bytes().name(".")) == ".");
        // Compressed against the message before the rdata.
        CHECK(render(type, Bytes().labels("mail").pointer(12), message_start()) == "mail.example.test");
        CHECK(render(type, Bytes().pointer(12), message_start()) == "example.test");
        // Bytes after the name, inside the rdata.
        CHECK(render(type, Bytes().name("a.test").u8(0)) == "<bad-rdata>");
        CHECK(render(type, Bytes()) == "<bad-rdata>");
        // A name that would run on into the next record is bad rdata, even
        // though the message itself has the bytes.
        CHECK(render(type, Bytes().labels("a"), {}, Bytes().name("test")) == "<bad-rdata>");
        // Pointers inside rdata follow the same rules as anywhere else.
        CHECK(render(type, Bytes().pointer(40), message_start()) == "<bad-pointer>");
        CHECK(render(type, Bytes().raw({0x80, 0})) == "<bad-label-type>");
    }
    // Pointing into an earlier record's rdata: a pointer to a pointer.
    Bytes before = message_start();
    const size_t earlier = before.size();
    before.labels("ns1").pointer(12);
    CHECK(render(t_ptr, Bytes().labels("x").pointer(earlier), before) == "x.ns1.example.test");
}

TEST_CASE("MX") {
    CHECK(render(t_mx, Bytes().u16(10).name("mail.example.test")) == "10 mail.example.test");
    CHECK(render(t_mx, Bytes().u16(65535).name(".")) == "65535 .");
    CHECK(render(t_mx, Bytes().u16(0).labels("mx").pointer(12), message_start()) == "0 mx.example.test");
    CHECK(render(t_mx, Bytes().u16(10)) == "<bad-rdata>");
    CHECK(render(t_mx, Bytes().u8(1)) == "<bad-rdata>");
    CHECK(render(t_mx, Bytes().u16(10).name("a.test").u8(1)) == "<bad-rdata>");
}

TEST_CASE("TXT") {
    CHECK(render(t_txt, Bytes().str("v=spf1 -all")) == "\"v=spf1 -all\"");
    CHECK(render(t_txt, Bytes().str("first").str("second one")) == "\"first\" \"second one\"");
    CHECK(render(t_txt, Bytes().str("")) == "\"\"");
    CHECK(render(t_txt, Bytes().str("").str("")) == "\"\" \"\"");
    CHECK(render(t_txt, Bytes().str("say \"hi\"\\")) == "\"say \\\"hi\\\"\\\\\"");
    CHECK(render(t_txt, Bytes().str(std::string_view("tab\there\0\x7f\xff;()", 14))) ==
          "\"tab\\009here\\000\\127\\255;()\"");
    const std::string long_string(255, 'x');
    CHECK(render(t_txt, Bytes().str(long_string).str("y")) == "\"" + long_string + "\" \"y\"");
    // A string that runs past the rdata, and rdata with no string at all.
    CHECK(render(t_txt, Bytes().u8(5).raw("abc")) == "<bad-rdata>");
    CHECK(render(t_txt, Bytes().str("ok").u8(1)) == "<bad-rdata>");
    CHECK(render(t_txt, Bytes().u8(3).raw("ab"), {}, Bytes().raw("c")) == "<bad-rdata>");
    CHECK(render(t_txt, Bytes()) == "<bad-rdata>");
}

TEST_CASE("SRV") {
    CHECK(render(t_srv, Bytes().u16(10).u16(60).u16(5060).name("sip.example.test")) == "10 60 5060 sip.example.test");
    CHECK(render(t_srv, Bytes().u16(0).u16(0).u16(0).name(".")) == "0 0 0 .");
    CHECK(render(t_srv, Bytes().u16(1).u16(2).u16(3).pointer(12), message_start()) == "1 2 3 example.test");
    CHECK(render(t_srv, Bytes().u16(1).u16(2).u16(3)) == "<bad-rdata>");
    CHECK(render(t_srv, Bytes().u16(1).u16(2)) == "<bad-rdata>");
}

TEST_CASE("SOA") {
    Bytes soa;
    soa.name("ns1.example.test").name("Hostmaster.example.test");
    soa.u32(2024010101).u32(3600).u32(900).u32(604800).u32(4294967295u);
    CHECK(render(t_soa, soa) == "ns1.example.test hostmaster.example.test 2024010101 3600 900 604800 4294967295");
    Bytes compressed;
    compressed.labels("ns1").pointer(12).labels("hostmaster").pointer(12).u32(1).u32(2).u32(3).u32(4).u32(5);
    CHECK(render(t_soa, compressed, message_start()) == "ns1.example.test hostmaster.example.test 1 2 3 4 5");
    Bytes short_soa;
    short_soa.name(".").name(".").u32(1).u32(2).u32(3).u32(4).u16(5).u8(0);
    CHECK(render(t_soa, short_soa) == "<bad-rdata>");
    Bytes long_soa;
    long_soa.name(".").name(".").u32(1).u32(2).u32(3).u32(4).u32(5).u8(0);
    CHECK(render(t_soa, long_soa) == "<bad-rdata>");
    CHECK(render(t_soa, Bytes().name("a.test")) == "<bad-rdata>");
}

TEST_CASE("HTTPS and SVCB: RFC 9460 appendix D test vectors") {
    // D.1 AliasMode.
    CHECK(render(t_https, Bytes().u16(0).name("foo.example.com")) == "0 foo.example.com");
    // D.2 ServiceMode.
    CHECK(render(t_svcb, Bytes().u16(1).name(".")) == "1 .");
    CHECK(render(t_svcb, Bytes().u16(16).name("foo.example.com").param(3, Bytes().u16(53))) ==
          "16 foo.example.com port=53");
    CHECK(render(t_svcb, Bytes().u16(1).name("foo.example.com").param(667, Bytes().raw("hello"))) ==
          "1 foo.example.com key667=\"hello\"");
    CHECK(render(t_svcb, Bytes().u16(1).name("foo.example.com").param(667, Bytes().raw("hello\xd2qoo"))) ==
          "1 foo.example.com key667=\"hello\\210qoo\"");
    Bytes hints;
    hints.raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01});
    hints.raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53, 0, 0x01});
    CHECK(render(t_svcb, Bytes().u16(1).name("foo.example.com").param(6, hints)) ==
          "1 foo.example.com ipv6hint=2001:db8::1,2001:db8::53:1");
    Bytes mapped{0x20, 0x01, 0x0d, 0xb8, 0x01, 0x22, 0x03, 0x44, 0, 0, 0, 0, 0xc0, 0x00, 0x02, 0x21};
    CHECK(render(t_svcb, Bytes().u16(1).name("example.com").param(6, mapped)) ==
          "1 example.com ipv6hint=2001:db8:122:344::c000:221");
    Bytes d2;
    d2.u16(16).name("foo.example.org");
    d2.param(0, Bytes().u16(1).u16(4));
    d2.param(1, Bytes().str("h2").str("h3-19"));
    d2.param(4, Bytes{192, 0, 2, 1});
    CHECK(render(t_svcb, d2) == "16 foo.example.org mandatory=alpn,ipv4hint alpn=h2,h3-19 ipv4hint=192.0.2.1");
    // alpn ids "f\oo,bar" and "h2": RFC's alpn="f\\\\oo\\,bar,h2", unquoted.
    Bytes escaped;
    escaped.u16(16).name("foo.example.org").param(1, Bytes().str("f\\oo,bar").str("h2"));
    CHECK(render(t_svcb, escaped) == "16 foo.example.org alpn=f\\\\\\\\oo\\\\,bar,h2");
}

TEST_CASE("HTTPS: every key") {
    Bytes ech{0x00, 0x45, 0xfe, 0x0d, 0x00};
    Bytes https;
    https.u16(1).name(".");
    https.param(1, Bytes().str("h2").str("h3"));
    https.param(2, Bytes());
    https.param(3, Bytes().u16(8443));
    https.param(4, Bytes{192, 0, 2, 1, 192, 0, 2, 2});
    https.param(5, ech);
    https.param(6, Bytes{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01});
    https.param(7, Bytes().raw("/dns-query{?dns}"));
    https.param(8, Bytes());
    https.param(65000, Bytes());
    https.param(65001, Bytes().raw("x y"));
    CHECK(render(t_https, https) ==
          "1 . alpn=h2,h3 no-default-alpn port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AEX+DQA= "
          "ipv6hint=2001:db8::1 dohpath=/dns-query{?dns} ohttp key65000 key65001=\"x y\"");
    // Base64 padding: 1, 2 and 3 bytes.
    CHECK(render(t_https, Bytes().u16(1).name(".").param(5, Bytes{0xff})) == "1 . ech=/w==");
    CHECK(render(t_https, Bytes().u16(1).name(".").param(5, Bytes{0xff, 0xfe})) == "1 . ech=//4=");
    CHECK(render(t_https, Bytes().u16(1).name(".").param(5, Bytes{0xff, 0xfe, 0xfd})) == "1 . ech=//79");
    CHECK(render(t_https, Bytes().u16(1).name(".").param(5, Bytes())) == "1 . ech=\"\"");
    // A dohpath a zone-file parser would split gets quoted.
    CHECK(render(t_svcb, Bytes().u16(1).name("doh.test").param(7, Bytes().raw("/a b\""))) ==
          "1 doh.test dohpath=\"/a b\\\"\"");
    // mandatory names unknown keys by number.
    CHECK(render(t_svcb, Bytes().u16(1).name(".").param(0, Bytes().u16(3).u16(700))) == "1 . mandatory=port,key700");
    // Odd alpn bytes.
    CHECK(render(t_https, Bytes().u16(1).name(".").param(1, Bytes().str(std::string_view("a \"\x01", 4)))) ==
          "1 . alpn=a\\032\\\"\\001");
    // The target may be compressed (against the spec, but harmless).
    CHECK(render(t_https, Bytes().u16(1).pointer(12), message_start()) == "1 example.test");
}

TEST_CASE("HTTPS and SVCB: malformed") {
    auto svc = [](std::initializer_list<std::pair<uint16_t, Bytes>> params) {
        Bytes b;
        b.u16(1).name(".");
        for (const auto& [key, value] : params)
            b.param(key, value);
        return render(t_https, b);
    };
    CHECK(render(t_https, Bytes()) == "<bad-rdata>");
    CHECK(render(t_https, Bytes().u16(1)) == "<bad-rdata>");
    CHECK(render(t_https, Bytes().u16(1).labels("a")) == "<bad-rdata>");
    // Keys out of order, or repeated.
    CHECK(svc({{3, Bytes().u16(1)}, {1, Bytes().str("h2")}}) == "<bad-rdata>");
    CHECK(svc({{3, Bytes().u16(1)}, {3, Bytes().u16(2)}}) == "<bad-rdata>");
    // Values of the wrong size.
    CHECK(svc({{0, Bytes()}}) == "<bad-rdata>");
    CHECK(svc({{0, Bytes{0, 1, 0}}}) == "<bad-rdata>");
    CHECK(svc({{0, Bytes().u16(0)}}) == "<bad-rdata>");         // mandatory lists itself
    CHECK(svc({{0, Bytes().u16(3).u16(1)}}) == "<bad-rdata>");  // unsorted
    CHECK(svc({{0, Bytes().u16(3).u16(3)}}) == "<bad-rdata>");  // repeated
    CHECK(svc({{1, Bytes()}}) == "<bad-rdata>");
    CHECK(svc({{1, Bytes().str("")}}) == "<bad-rdata>");
    CHECK(svc({{1, Bytes().u8(3).raw("h2")}}) == "<bad-rdata>");
    CHECK(svc({{2, Bytes{0}}}) == "<bad-rdata>");
    CHECK(svc({{3, Bytes{1}}}) == "<bad-rdata>");
    CHECK(svc({{3, Bytes{1, 2, 3}}}) == "<bad-rdata>");
    CHECK(svc({{4, Bytes()}}) == "<bad-rdata>");
    CHECK(svc({{4, Bytes{1, 2, 3, 4, 5}}}) == "<bad-rdata>");
    CHECK(svc({{6, Bytes{1, 2, 3, 4}}}) == "<bad-rdata>");
    CHECK(svc({{8, Bytes{1}}}) == "<bad-rdata>");
    // A parameter header or value cut by the end of the rdata.
    CHECK(render(t_https, Bytes().u16(1).name(".").u16(3).u8(0)) == "<bad-rdata>");
    CHECK(render(t_https, Bytes().u16(1).name(".").u16(3).u16(2).u8(1)) == "<bad-rdata>");
}

TEST_CASE("RFC 3597 for everything else") {
    CHECK(render(65534, Bytes{0x0a, 0x00, 0x00, 0x01}) == "\\# 4 0a000001");
    CHECK(render(65534, Bytes()) == "\\# 0");
    CHECK(render(0, Bytes{0xff}) == "\\# 1 ff");
    CHECK(render(t_caa, Bytes().u8(0).str("issue").raw("ca.example")) == "\\# 17 0005697373756563612e6578616d706c65");
    // No name decoding for types not known to hold names here (DNAME).
    CHECK(render(39, Bytes().pointer(99)) == "\\# 2 c063");
}

TEST_CASE("rdata outside the message is truncated") {
    std::vector<uint8_t> message = {1, 2, 3, 4};
    std::span<const uint8_t> span(message.data(), message.size());
    std::string out;
    CHECK(render_rdata(span, 0, 4, t_a, out) == DnsParseStatus::ok);
    CHECK(out == "1.2.3.4");
    CHECK(render_rdata(span, 1, 4, t_a, out) == DnsParseStatus::truncated);
    CHECK(out.empty());
    CHECK(render_rdata(span, 5, 0, 65534, out) == DnsParseStatus::truncated);
    CHECK(render_rdata(span, 4, 0, 65534, out) == DnsParseStatus::ok);
    CHECK(out == "\\# 0");
    CHECK(render_rdata(span, 0, 0xffff, 65534, out) == DnsParseStatus::truncated);
}

TEST_CASE("type mnemonics") {
    const std::pair<uint16_t, const char*> known[] = {
        {1, "A"},       {2, "NS"},      {5, "CNAME"},   {6, "SOA"},    {12, "PTR"},     {13, "HINFO"},
        {15, "MX"},     {16, "TXT"},    {17, "RP"},     {18, "AFSDB"}, {24, "SIG"},     {25, "KEY"},
        {28, "AAAA"},   {29, "LOC"},    {33, "SRV"},    {35, "NAPTR"}, {36, "KX"},      {37, "CERT"},
        {39, "DNAME"},  {41, "OPT"},    {42, "APL"},    {43, "DS"},    {44, "SSHFP"},   {45, "IPSECKEY"},
        {46, "RRSIG"},  {47, "NSEC"},   {48, "DNSKEY"}, {49, "DHCID"}, {50, "NSEC3"},   {51, "NSEC3PARAM"},
        {52, "TLSA"},   {53, "SMIMEA"}, {55, "HIP"},    {59, "CDS"},   {60, "CDNSKEY"}, {61, "OPENPGPKEY"},
        {62, "CSYNC"},  {63, "ZONEMD"}, {64, "SVCB"},   {65, "HTTPS"}, {99, "SPF"},     {108, "EUI48"},
        {109, "EUI64"}, {249, "TKEY"},  {250, "TSIG"},  {251, "IXFR"}, {252, "AXFR"},   {255, "ANY"},
        {256, "URI"},   {257, "CAA"},
    };
    for (const auto& entry : known) {
        CAPTURE(entry.first);
        CHECK(dns_type_name(entry.first) == entry.second);
    }
    CHECK(dns_type_name(0) == "TYPE0");
    CHECK(dns_type_name(54) == "TYPE54");
    CHECK(dns_type_name(65534) == "TYPE65534");
    CHECK(dns_type_name(65535) == "TYPE65535");
}

TEST_CASE("class mnemonics") {
    CHECK(dns_class_name(1) == "IN");
    CHECK(dns_class_name(3) == "CH");
    CHECK(dns_class_name(4) == "HS");
    CHECK(dns_class_name(254) == "NONE");
    CHECK(dns_class_name(255) == "ANY");
    CHECK(dns_class_name(0) == "CLASS0");
    CHECK(dns_class_name(2) == "CLASS2");
    CHECK(dns_class_name(42) == "CLASS42");
    CHECK(dns_class_name(1232) == "CLASS1232");
    CHECK(dns_class_name(65535) == "CLASS65535");
}

TEST_CASE("rcode mnemonics") {
    const char* low[] = {"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
                         "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE", "DSOTYPENI"};
    for (uint16_t i = 0; i < 12; ++i)
        CHECK(dns_rcode_name(i) == low[i]);
    const char* high[] = {"BADVERS", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE"};
    for (uint16_t i = 0; i < 8; ++i)
        CHECK(dns_rcode_name(static_cast<uint16_t>(16 + i)) == high[i]);
    CHECK(dns_rcode_name(12) == "RCODE12");
    CHECK(dns_rcode_name(15) == "RCODE15");
    CHECK(dns_rcode_name(24) == "RCODE24");
    CHECK(dns_rcode_name(4095) == "RCODE4095");
}

TEST_CASE("flag strings") {
    CHECK(dns_flags_string(0) == "");
    CHECK(dns_flags_string(0x8000) == "");  // QR alone
    CHECK(dns_flags_string(0x0100) == "rd");
    CHECK(dns_flags_string(0x8180) == "rd ra");
    CHECK(dns_flags_string(0x8580) == "aa rd ra");
    CHECK(dns_flags_string(0x87b0) == "aa tc rd ra ad cd");
    CHECK(dns_flags_string(0x0210) == "tc cd");
    CHECK(dns_flags_string(0x0020) == "ad");
    // Opcode, Z and rcode bits are not flags.
    CHECK(dns_flags_string(0x7840 | 0x000f) == "");
}
