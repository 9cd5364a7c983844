// Tests for parse_dns_message: header, sections, compression, EDNS, hostile
// input (pointer loops, oversized names, truncation), and the reported depth
// against the full one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dns_message.hpp"
#include "dns_parser.hpp"
#include "dns_wire_name.hpp"

using namespace dnsvis;

namespace {

constexpr uint16_t t_a = 1, t_ns = 2, t_cname = 5, t_soa = 6, t_mx = 15, t_txt = 16, t_aaaa = 28, t_opt = 41,
                   t_https = 65;
constexpr uint16_t c_in = 1, c_ch = 3, c_any = 255;

// Builds DNS messages byte by byte. Records are written with a placeholder
// rdlength that is patched when the next record starts or the packet is
// taken, so rdata can be assembled from names, pointers and raw bytes.
class Packet {
public:
    Packet& u8(uint8_t v) {
        bytes_.push_back(v);
        return *this;
    }
    Packet& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
    Packet& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
    Packet& raw(std::initializer_list<uint8_t> v) {
        bytes_.insert(bytes_.end(), v);
        return *this;
    }
    Packet& raw(std::string_view s) {
        bytes_.insert(bytes_.end(), s.begin(), s.end());
        return *this;
    }
    Packet& header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
        return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
    }
    // One label, bytes taken as they are (dots included).
    Packet& label(std::string_view l) {
        u8(static_cast<uint8_t>(l.size()));
        return raw(l);
    }
    // The labels of a dotted name, without the terminating root label.
    Packet& labels(std::string_view dotted) {
        while (!dotted.empty()) {
            size_t dot = dotted.find('.');
            label(dotted.substr(0, dot));
            dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
        }
        return *this;
    }
    Packet& name(std::string_view dotted) {
        if (dotted != ".")
            labels(dotted);
        return u8(0);
    }
    Packet& pointer(size_t offset) { return u16(static_cast<uint16_t>(0xc000 | offset)); }
    Packet& question(std::string_view n, uint16_t type, uint16_t klass = c_in) { return name(n).u16(type).u16(klass); }
    // Owner name already written (e.g. a pointer); adds the fixed part.
    Packet& rr_fixed(uint16_t type, uint16_t klass, uint32_t ttl) {
        close();
        u16(type).u16(klass).u32(ttl);
        open_ = bytes_.size();
        return u16(0);
    }
    Packet& rr(std::string_view owner, uint16_t type, uint16_t klass = c_in, uint32_t ttl = 300) {
        close();
        name(owner);
        return rr_fixed(type, klass, ttl);
    }
    Packet& rr_at(size_t owner, uint16_t type, uint16_t klass = c_in, uint32_t ttl = 300) {
        close();
        pointer(owner);
        return rr_fixed(type, klass, ttl);
    }
    Packet& opt(uint16_t udp_size, uint8_t ext_rcode, uint8_t version, bool dnssec_ok) {
        close();
        u8(0).u16(t_opt).u16(udp_size);
        u8(ext_rcode).u8(version).u16(dnssec_ok ? 0x8000 : 0);
        open_ = bytes_.size();
        return u16(0);
    }
    // Ends the open record: later bytes are not counted in its rdlength.
    Packet& end_rr() {
        close();
        return *this;
    }
    size_t here() const { return bytes_.size(); }
    std::vector<uint8_t> take() {
        close();
        return bytes_;
    }

private:
    void close() {
        if (open_ == 0)
            return;
        const size_t length = bytes_.size() - open_ - 2;
        bytes_[open_] = static_cast<uint8_t>(length >> 8);
        bytes_[open_ + 1] = static_cast<uint8_t>(length);
        open_ = 0;
    }

    std::vector<uint8_t> bytes_;
    size_t open_ = 0;
};

DnsParseStatus parse(const std::vector<uint8_t>& wire, DnsMessage& m, DnsParseDepth depth = DnsParseDepth::full) {
    return parse_dns_message(std::span<const uint8_t>(wire.data(), wire.size()), m, depth);
}

// A question for one name, for the name tests: returns the parsed name or
// the status as "<status>".
std::string question_name(const std::vector<uint8_t>& wire) {
    DnsMessage m;
    DnsParseStatus s = parse(wire, m);
    if (s != DnsParseStatus::ok)
        return "<" + std::string(to_string(s)) + ">";
    REQUIRE(m.questions.size() == 1);
    return m.questions[0].name;
}

std::vector<uint8_t> one_question(std::string_view dotted) {
    return Packet().header(1, 0x0100, 1, 0, 0, 0).question(dotted, t_a).take();
}

// A response as a recursive resolver sends it: question, a CNAME chain into
// an A and an AAAA, NS and SOA in authority, glue and OPT in additional,
// names compressed against earlier ones the way servers do it.
std::vector<uint8_t> realistic_response() {
    Packet p;
    p.header(0xbeef, 0x8180, 1, 4, 2, 3);
    const size_t qname = p.here();  // 12
    p.question("Alias.Example.Test", t_a);
    const size_t example_test = qname + 6;  // "example.test" inside the qname
    p.rr_at(qname, t_cname, c_in, 60);
    const size_t alias2 = p.here();
    p.labels("alias2").pointer(example_test);
    p.rr_at(alias2, t_cname, c_in, 60);
    const size_t www = p.here();
    p.labels("www").pointer(example_test);
    p.rr_at(www, t_a, c_in, 300).raw({192, 0, 2, 10});
    p.rr_at(www, t_aaaa, c_in, 300).raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10});
    p.rr_at(example_test, t_ns, c_in, 3600);
    const size_t ns1 = p.here();
    p.labels("ns1").pointer(example_test);
    p.rr_at(example_test, t_soa, c_in, 3600);
    p.pointer(ns1).labels("hostmaster").pointer(example_test);
    p.u32(2024010101).u32(3600).u32(900).u32(604800).u32(300);
    p.rr_at(ns1, t_a, c_in, 3600).raw({192, 0, 2, 53});
    p.rr("ns2.other.test", t_a, c_in, 3600).raw({198, 51, 100, 53});
    p.opt(1232, 0, 0, true);
    return p.take();
}

}  // namespace

TEST_CASE("a plain query: header fields and the question") {
    auto wire = Packet().header(0x1234, 0x0120, 1, 0, 0, 0).question("www.example.test", t_aaaa).take();
    DnsMessage m;
    REQUIRE(parse(wire, m) == DnsParseStatus::ok);
    CHECK(m.id == 0x1234);
    CHECK(m.flags == 0x0120);
    CHECK_FALSE(m.is_response());
    CHECK(m.opcode() == 0);
    CHECK(m.rcode() == 0);
    CHECK(m.question_count == 1);
    CHECK(m.answer_count == 0);
    REQUIRE(m.questions.size() == 1);
    CHECK(m.questions[0].name == "www.example.test");
    CHECK(m.questions[0].type == t_aaaa);
    CHECK(m.questions[0].klass == c_in);
    CHECK(m.answers.empty());
    CHECK(m.authority.empty());
    CHECK(m.additional.empty());
    CHECK_FALSE(m.edns.has_value());
}

TEST_CASE("a realistic compressed response parses completely") {
    auto wire = realistic_response();
    DnsMessage m;
    REQUIRE(parse(wire, m) == DnsParseStatus::ok);
    CHECK(m.id == 0xbeef);
    CHECK(m.is_response());
    CHECK(m.rcode() == 0);
    REQUIRE(m.questions.size() == 1);
    CHECK(m.questions[0].name == "alias.example.test");

    REQUIRE(m.answers.size() == 4);
    CHECK(m.answers[0].name == "alias.example.test");
    CHECK(m.answers[0].type == t_cname);
    CHECK(m.answers[0].ttl == 60);
    CHECK(m.answers[0].data == "alias2.example.test");
    CHECK(m.answers[1].name == "alias2.example.test");
    CHECK(m.answers[1].data == "www.example.test");
    CHECK(m.answers[2].name == "www.example.test");
    CHECK(m.answers[2].type == t_a);
    CHECK(m.answers[2].klass == c_in);
    CHECK(m.answers[2].ttl == 300);
    CHECK(m.answers[2].data == "192.0.2.10");
    CHECK(m.answers[3].name == "www.example.test");
    CHECK(m.answers[3].data == "2001:db8::10");

    REQUIRE(m.authority.size() == 2);
    CHECK(m.authority[0].name == "example.test");
    CHECK(m.authority[0].type == t_ns);
    CHECK(m.authority[0].data == "ns1.example.test");
    CHECK(m.authority[1].type == t_soa);
    CHECK(m.authority[1].data == "ns1.example.test hostmaster.example.test 2024010101 3600 900 604800 300");

    // The OPT record fills edns and is not kept as a record.
    REQUIRE(m.additional.size() == 2);
    CHECK(m.additional[0].name == "ns1.example.test");
    CHECK(m.additional[0].data == "192.0.2.53");
    CHECK(m.additional[1].name == "ns2.other.test");
    CHECK(m.additional[1].data == "198.51.100.53");
    REQUIRE(m.edns.has_value());
    CHECK(m.edns->udp_payload_size == 1232);
    CHECK(m.edns->extended_rcode == 0);
    CHECK(m.edns->version == 0);
    CHECK(m.edns->dnssec_ok);
    CHECK(m.additional_count == 3);
}

TEST_CASE("every proper prefix of a response is an error, never a crash") {
    const auto wire = realistic_response();
    DnsMessage full;
    REQUIRE(parse(wire, full) == DnsParseStatus::ok);

    for (size_t length = 0; length < wire.size(); ++length) {
        CAPTURE(length);
        std::vector<uint8_t> prefix(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(length));
        DnsMessage m;
        DnsParseStatus s = parse(prefix, m);
        if (length < 12) {
            CHECK(s == DnsParseStatus::too_short);
            CHECK(m.id == 0);
            CHECK(m.questions.empty());
            continue;
        }
        // The counts promise more than a prefix holds, so every cut is
        // "truncated", even one that falls between two records.
        CHECK(s == DnsParseStatus::truncated);
        CHECK(m.id == 0xbeef);
        CHECK(m.flags == full.flags);
        CHECK(m.answer_count == 4);
        // What was complete is kept, and is what the full parse found.
        CHECK(m.questions.size() <= 1);
        CHECK(m.answers.size() <= full.answers.size());
        for (size_t i = 0; i < m.answers.size(); ++i)
            CHECK(m.answers[i].data == full.answers[i].data);
        if (length >= 12 + 20 + 4)
            CHECK(m.questions.size() == 1);
    }
}

// The HTTPS response NSD 4.6 sent for svc.example.test, as captured by
// tests/fuzz/make_corpus.py (corpus file response-https-alpn-ech-hints.bin):
// a real server's encoder, not ours.
static const std::vector<uint8_t> nsd_https_response = {
    0xf6, 0x29, 0x85, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x03, 0x73, 0x76, 0x63, 0x07, 0x65,
    0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0x41, 0x00, 0x01, 0xc0, 0x0c,
    0x00, 0x41, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x7e, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x06, 0x02,
    0x68, 0x32, 0x02, 0x68, 0x33, 0x00, 0x03, 0x00, 0x02, 0x20, 0xfb, 0x00, 0x04, 0x00, 0x08, 0xc0, 0x00, 0x02,
    0x01, 0xc0, 0x00, 0x02, 0x02, 0x00, 0x05, 0x00, 0x47, 0x00, 0x45, 0xfe, 0x0d, 0x00, 0x41, 0x01, 0x00, 0x20,
    0x00, 0x20, 0xc7, 0xd2, 0x19, 0xa2, 0xf1, 0xd5, 0xee, 0xea, 0x4f, 0x4a, 0xb9, 0x62, 0x78, 0x10, 0x82, 0x51,
    0x76, 0x45, 0x15, 0xf5, 0xc6, 0x3b, 0x68, 0xf0, 0xd4, 0xa1, 0x1e, 0x88, 0x11, 0x4e, 0xdb, 0x4e, 0x00, 0x04,
    0x00, 0x01, 0x00, 0x01, 0x00, 0x12, 0x63, 0x6c, 0x6f, 0x75, 0x64, 0x66, 0x6c, 0x61, 0x72, 0x65, 0x2d, 0x65,
    0x63, 0x68, 0x2e, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x00, 0x06, 0x00, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc0, 0x10, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00,
    0x01, 0x2c, 0x00, 0x06, 0x03, 0x6e, 0x73, 0x31, 0xc0, 0x10, 0xc0, 0x10, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00,
    0x01, 0x2c, 0x00, 0x0c, 0x03, 0x6e, 0x73, 0x32, 0x05, 0x6f, 0x74, 0x68, 0x65, 0x72, 0xc0, 0x18, 0xc0, 0xb8,
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x7f, 0x35, 0x09, 0x01, 0xc0, 0xb8, 0x00, 0x1c,
    0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x53, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

TEST_CASE("a real HTTPS response from NSD") {
    DnsMessage m;
    REQUIRE(parse(nsd_https_response, m) == DnsParseStatus::ok);
    CHECK(m.flags == 0x8500);
    REQUIRE(m.questions.size() == 1);
    CHECK(m.questions[0].name == "svc.example.test");
    CHECK(m.questions[0].type == t_https);
    REQUIRE(m.answers.size() == 1);
    CHECK(m.answers[0].data ==
          "1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1,192.0.2.2 "
          "ech=AEX+DQBBAQAgACDH0hmi8dXu6k9KuWJ4EIJRdkUV9cY7aPDUoR6IEU7bTgAEAAEAAQASY2xvdWRmbGFyZS1lY2guY29tAAA= "
          "ipv6hint=2001:db8::1");
    REQUIRE(m.authority.size() == 2);
    CHECK(m.authority[1].data == "ns2.other.test");
    REQUIRE(m.additional.size() == 2);
    CHECK(m.additional[1].name == "ns1.example.test");
    CHECK(m.additional[1].data == "2001:db8::53");
    REQUIRE(m.edns.has_value());
    CHECK(m.edns->udp_payload_size == 1232);

    for (size_t length = 12; length < nsd_https_response.size(); ++length) {
        CAPTURE(length);
        std::vector<uint8_t> prefix(nsd_https_response.begin(),
                                    nsd_https_response.begin() + static_cast<std::ptrdiff_t>(length));
        CHECK(parse(prefix, m) == DnsParseStatus::truncated);
    }
}

TEST_CASE("a cut capture keeps the header and the question") {
    auto wire = realistic_response();
    wire.resize(12 + 20 + 4 + 5);  // question, then part of the first answer
    DnsMessage m;
    CHECK(parse(wire, m) == DnsParseStatus::truncated);
    CHECK(m.id == 0xbeef);
    REQUIRE(m.questions.size() == 1);
    CHECK(m.questions[0].name == "alias.example.test");
    CHECK(m.questions[0].type == t_a);
    CHECK(m.answers.empty());
}

TEST_CASE("short input") {
    DnsMessage m;
    m.id = 7;
    CHECK(parse({}, m) == DnsParseStatus::too_short);
    CHECK(m.id == 0);  // cleared even when nothing could be read
    std::vector<uint8_t> eleven(11, 0xff);
    CHECK(parse(eleven, m) == DnsParseStatus::too_short);
    CHECK(m.flags == 0);
    std::vector<uint8_t> twelve = {0xab, 0xcd, 0x81, 0x83, 0, 0, 0, 0, 0, 0, 0, 0};
    REQUIRE(parse(twelve, m) == DnsParseStatus::ok);
    CHECK(m.id == 0xabcd);
    CHECK(m.rcode() == 3);
    CHECK(m.questions.empty());
}

TEST_CASE("a message without a question") {
    // Servers answer some errors (and DSO, and NOTIFY replies) with qdcount 0.
    auto wire = Packet().header(9, 0x8105, 0, 0, 0, 1).opt(4096, 0, 0, false).take();
    DnsMessage m;
    REQUIRE(parse(wire, m) == DnsParseStatus::ok);
    CHECK(m.questions.empty());
    CHECK(m.rcode() == 5);
    REQUIRE(m.edns.has_value());
    CHECK(m.edns->udp_payload_size == 4096);
    CHECK_FALSE(m.edns->dnssec_ok);
}

TEST_CASE("EDNS extended rcode: BADVERS") {
    auto wire = Packet().header(3, 0x8100, 1, 0, 0, 1).question("example.test", t_a).opt(1232, 1, 0, false).take();
    DnsMessage m;
    REQUIRE(parse(wire, m) == DnsParseStatus::ok);
    REQUIRE(m.edns.has_value());
    CHECK(m.edns->extended_rcode == 1);
    CHECK((m.flags & 0xf) == 0);
    CHECK(m.rcode() == 16);
    CHECK(m.additional.empty());

    auto v1 = Packet().header(3, 0x0100, 1, 0, 0, 1).question("example.test", t_a).opt(512, 0, 1, true).take();
    REQUIRE(parse(v1, m) == DnsParseStatus::ok);
    CHECK(m.edns->version == 1);
    CHECK(m.edns->dnssec_ok);
    CHECK(m.edns->udp_payload_size == 512);

    // Extended rcode 0xff with header rcode 0xf is the largest: 4095.
    auto big = Packet().header(3, 0x810f, 0, 0, 0, 1).opt(512, 0xff, 0, false).take();
    REQUIRE(parse(big, m) == DnsParseStatus::ok);
    CHECK(m.rcode() == 4095);
}

TEST_CASE("OPT outside the additional section, and a second OPT") {
    Packet p;
    p.header(4, 0x8100, 0, 1, 0, 2);
    p.rr(".", t_opt, 1232, 0).raw({0, 10, 0, 2, 0xaa, 0xbb});
    p.opt(1232, 0, 0, true);
    p.opt(4096, 1, 0, false);
    auto wire = p.take();
    DnsMessage m;
    REQUIRE(parse(wire, m) == DnsParseStatus::ok);
    // In the answer section it is just an unknown record.
    REQUIRE(m.answers.size() == 1);
    CHECK(m.answers[0].name == ".");
    CHECK(m.answers[0].type == t_opt);
    CHECK(m.answers[0].data == "\\# 6 000a0002aabb");
    // The first OPT of the additional section counts; the second is dropped.
    REQUIRE(m.edns.has_value());
    CHECK(m.edns->udp_payload_size == 1232);
    CHECK(m.edns->dnssec_ok);
    CHECK(m.rcode() == 0);
    CHECK(m.additional.empty());
}

TEST_CASE("names are folded to lower case, in owner names and in rdata") {
    Packet p;
    p.header(5, 0x8180, 1, 1, 0, 0);
    p.question("WWW.Example.TEST", t_cname);
    p.rr_at(12, t_cname).name("Target.EXAMPLE.test");
    auto wire = p.take();
    DnsMessage m;
    REQUIRE(parse(wire, m) == DnsParseStatus::ok);
    CHECK(m.questions[0].name == "www.example.test");
    CHECK(m.answers[0].name == "www.example.test");
    CHECK(m.answers[0].data == "target.example.test");
    // Only ASCII is folded: 0xc4 is not 'A' + 0x80.
    auto latin = Packet().header(1, 0, 1, 0, 0, 0).label("\xc4Z").u8(0).u16(t_a).u16(c_in).take();
    CHECK(question_name(latin) == "\\196z");
}

TEST_CASE("odd bytes in labels are escaped as in zone files") {
    auto wire = Packet()
                    .header(1, 0, 1, 0, 0, 0)
                    .label("a.b")
                    .label("back\\slash")
                    .label(std::string_view("sp ace\x00\x7f\xff!~", 11))
                    .label("_tcp-x")
                    .u8(0)
                    .u16(t_a)
                    .u16(c_in)
                    .take();
    CHECK(question_name(wire) == "a\\.b.back\\\\slash.sp\\032ace\\000\\127\\255!~._tcp-x");
}

TEST_CASE("labels are read eight bytes at a time: every byte class at every position") {
    // The fast path copies whole words of plain bytes; a byte that needs
    // folding or escaping, anywhere in a label of any length, and whether
    // or not the message goes on after the label, must come out as the
    // byte-by-byte rules say.
    auto presentation = [](std::string_view label) {
        std::string out;
        for (unsigned char b : label) {
            if (b >= 'A' && b <= 'Z') {
                out += static_cast<char>(b + 32);
            } else if (b == '.' || b == '\\') {
                out += '\\';
                out += static_cast<char>(b);
            } else if (b < 0x21 || b > 0x7e) {
                char digits[5];
                std::snprintf(digits, sizeof digits, "\\%03u", b);
                out += digits;
            } else {
                out += static_cast<char>(b);
            }
        }
        return out;
    };
    for (size_t length = 1; length <= 20; ++length) {
        for (size_t at = 0; at < length; ++at) {
            for (char odd : {'A', 'Z', '@', '[', '.', '\\', ' ', '!', '~', '\x00', '\x7f', '\x80', '\xff'}) {
                std::string label(length, 'q');
                label[at] = odd;
                const std::string expected = presentation(label) + ".test";
                auto wire = Packet().header(1, 0, 1, 0, 0, 0).label(label).label("test").u8(0).u16(t_a).u16(c_in).take();
                CHECK_MESSAGE(question_name(wire) == expected, "length ", length, " byte ", int(static_cast<unsigned char>(odd)), " at ", at);
                // The same name as the last bytes of the message, so no
                // word may be read past the end.
                auto tail = Packet().header(1, 0, 0, 0, 0, 0).label("test").label(label).u8(0).take();
                std::string name;
                size_t end = 0;
                REQUIRE(append_wire_name(tail, 17, name, end) == DnsParseStatus::ok);
                CHECK(name == presentation(label));
                CHECK(end == tail.size());
            }
        }
    }
}

TEST_CASE("the root name") {
    auto wire = Packet().header(1, 0, 1, 1, 0, 0).question(".", t_ns).rr_at(12, t_ns).name(".").take();
    DnsMessage m;
    REQUIRE(parse(wire, m) == DnsParseStatus::ok);
    CHECK(m.questions[0].name == ".");
    CHECK(m.answers[0].name == ".");
    CHECK(m.answers[0].data == ".");
}

TEST_CASE("compression: backward pointers, suffixes and chains") {
    Packet p;
    p.header(6, 0x8180, 3, 1, 0, 0);
    const size_t q1 = p.here();
    p.question("a.b.example.test", t_a);
    // A pointer into the middle of an earlier name: its suffix.
    const size_t q2 = p.here();
    p.labels("c").pointer(q1 + 2);  // "b.example.test"
    p.u16(t_a).u16(c_in);
    // A pointer to a name that itself ends in a pointer, which goes further back.
    const size_t q3 = p.here();
    p.labels("d").pointer(q2);
    p.u16(t_a).u16(c_in);
    // An owner name that is a pointer to a pointer-terminated name.
    p.rr_at(q3, t_mx).u16(10).labels("mail").pointer(q3);
    auto wire = p.take();
    DnsMessage m;
    REQUIRE(parse(wire, m) == DnsParseStatus::ok);
    CHECK(m.questions[0].name == "a.b.example.test");
    CHECK(m.questions[1].name == "c.b.example.test");
    CHECK(m.questions[2].name == "d.c.b.example.test");
    CHECK(m.answers[0].name == "d.c.b.example.test");
    CHECK(m.answers[0].data == "10 mail.d.c.b.example.test");

    // A name that is nothing but a pointer to a pointer to a name.
    Packet chain;
    chain.header(7, 0, 3, 0, 0, 0);
    chain.question("x.test", t_a);
    const size_t p1 = chain.here();
    chain.pointer(12).u16(t_a).u16(c_in);
    chain.pointer(p1).u16(t_a).u16(c_in);
    auto chained = chain.take();
    REQUIRE(parse(chained, m) == DnsParseStatus::ok);
    CHECK(m.questions[1].name == "x.test");
    CHECK(m.questions[2].name == "x.test");
}

TEST_CASE("hostile compression pointers") {
    auto with_qname = [](std::initializer_list<uint8_t> qname) {
        return Packet().header(1, 0, 1, 0, 0, 0).raw(qname).u16(t_a).u16(c_in).take();
    };
    // A pointer to itself.
    CHECK(question_name(with_qname({0xc0, 12})) == "<bad-pointer>");
    // A forward pointer, even to a valid name.
    CHECK(question_name(with_qname({0xc0, 14, 1, 'a', 0})) == "<bad-pointer>");
    // Backwards from the pointer but into its own name: a loop.
    CHECK(question_name(with_qname({1, 'a', 0xc0, 12})) == "<bad-pointer>");
    CHECK(question_name(with_qname({1, 'a', 1, 'b', 0xc0, 14})) == "<bad-pointer>");
    // Any earlier byte is a valid target, even in the header: id 1 starts
    // with a zero byte, the root.
    CHECK(question_name(with_qname({0xc0, 0})) == ".");
    // A pointer past the end of the message.
    CHECK(question_name(with_qname({0xff, 0xff})) == "<bad-pointer>");
    // A pointer cut after its first byte.
    auto cut = Packet().header(1, 0, 1, 0, 0, 0).raw({1, 'a', 0xc0}).take();
    CHECK(question_name(cut) == "<truncated>");

    // Two names pointing at each other: the second points back at the first,
    // the first forward at the second.
    Packet mutual;
    mutual.header(1, 0, 2, 0, 0, 0);
    mutual.pointer(18).u16(t_a).u16(c_in);  // 12: -> 18
    mutual.pointer(12).u16(t_a).u16(c_in);  // 18: -> 12
    auto both = mutual.take();
    DnsMessage m;
    CHECK(parse(both, m) == DnsParseStatus::bad_pointer);
    CHECK(m.questions.empty());

    // The loop reached through a valid backward jump: the second owner name
    // points back into opaque rdata holding a name whose tail points forward
    // to that owner name again.
    Packet indirect;
    indirect.header(1, 0x8000, 0, 2, 0, 0);
    indirect.rr(".", 65534);
    const size_t hidden = indirect.here();
    const size_t owner2 = hidden + 4;
    indirect.labels("a").pointer(owner2).end_rr();
    REQUIRE(indirect.here() == owner2);
    indirect.labels("b").pointer(hidden).u16(t_a).u16(c_in).u32(1).u16(4).raw({1, 2, 3, 4});
    auto loop = indirect.take();
    CHECK(parse(loop, m) == DnsParseStatus::bad_pointer);
    REQUIRE(m.answers.size() == 1);
    CHECK(m.answers[0].data == "\\# 4 0161c0" + std::string(1, "0123456789abcdef"[owner2 >> 4]) +
                                   std::string(1, "0123456789abcdef"[owner2 & 0xf]));
}

TEST_CASE("reserved label types") {
    auto with_qname = [](std::initializer_list<uint8_t> qname) {
        return Packet().header(1, 0, 1, 0, 0, 0).raw(qname).u16(t_a).u16(c_in).take();
    };
    // 0x40: a "label of 64 bytes" is the extended label type, not a length.
    std::vector<uint8_t> long_label =
        Packet().header(1, 0, 1, 0, 0, 0).label(std::string(64, 'x')).u8(0).u16(t_a).u16(c_in).take();
    CHECK(question_name(long_label) == "<bad-label-type>");
    CHECK(question_name(with_qname({0x41, 0x00})) == "<bad-label-type>");
    CHECK(question_name(with_qname({0x7f, 0x00})) == "<bad-label-type>");
    CHECK(question_name(with_qname({0x80, 0x00})) == "<bad-label-type>");
    CHECK(question_name(with_qname({0xbf, 0x00})) == "<bad-label-type>");
    CHECK(question_name(with_qname({1, 'a', 0x80, 0x00})) == "<bad-label-type>");
    // 63 is the largest label.
    auto label63 = Packet().header(1, 0, 1, 0, 0, 0).label(std::string(63, 'x')).u8(0).u16(t_a).u16(c_in).take();
    CHECK(question_name(label63) == std::string(63, 'x'));
}

TEST_CASE("name length limit: 255 bytes in wire form") {
    const std::string l63(63, 'a'), l61(61, 'b'), l62(62, 'c');
    // 3 * 64 + 62 + 1 = 255: the longest legal name, 253 presentation chars.
    auto longest = one_question(l63 + "." + l63 + "." + l63 + "." + l61);
    std::string name = question_name(longest);
    CHECK(name.size() == 253);
    CHECK(name == l63 + "." + l63 + "." + l63 + "." + l61);
    // One byte more.
    CHECK(question_name(one_question(l63 + "." + l63 + "." + l63 + "." + l62)) == "<name-too-long>");
    CHECK(question_name(one_question(l63 + "." + l63 + "." + l63 + "." + l63)) == "<name-too-long>");
    // Many short labels: 127 * 2 + 1 = 255 fits, 128 labels do not.
    std::string short127, short128;
    for (int i = 0; i < 127; ++i)
        short127 += i == 0 ? "z" : ".z";
    short128 = short127 + ".z";
    CHECK(question_name(one_question(short127)).size() == 253);
    CHECK(question_name(one_question(short128)) == "<name-too-long>");

    // Over the limit only once the compressed suffix is added.
    Packet q;
    q.header(1, 0, 3, 0, 0, 0);
    q.question(l63 + "." + l63 + "." + l63, t_a);
    q.labels(l61).pointer(12).u16(t_a).u16(c_in);  // 62 + 193 = 255: fine
    q.labels(l62).pointer(12).u16(t_a).u16(c_in);  // 63 + 193 = 256
    auto wire = q.take();
    DnsMessage m;
    CHECK(parse(wire, m) == DnsParseStatus::name_too_long);
    REQUIRE(m.questions.size() == 2);
    CHECK(m.questions[1].name.size() == 253);

    // Escapes make the presentation form longer than 253; that is fine.
    auto escaped = Packet()
                       .header(1, 0, 1, 0, 0, 0)
                       .label(std::string(63, '.'))
                       .label(std::string(63, '\xff'))
                       .u8(0)
                       .u16(t_a)
                       .u16(c_in)
                       .take();
    std::string esc = question_name(escaped);
    CHECK(esc.size() == 63 * 2 + 1 + 63 * 4);
}

TEST_CASE("a name running past the end") {
    auto wire = Packet().header(1, 0, 1, 0, 0, 0).raw({5, 'a', 'b'}).take();
    CHECK(question_name(wire) == "<truncated>");
    auto no_root = Packet().header(1, 0, 1, 0, 0, 0).labels("example.test").take();
    CHECK(question_name(no_root) == "<truncated>");
    auto no_type = Packet().header(1, 0, 1, 0, 0, 0).name("example.test").u16(1).take();
    CHECK(question_name(no_type) == "<truncated>");
}

TEST_CASE("records: truncation and bad rdata keep what came before") {
    Packet p;
    p.header(8, 0x8180, 1, 3, 0, 0);
    p.question("example.test", t_a);
    p.rr_at(12, t_a).raw({192, 0, 2, 1});
    p.rr_at(12, t_a).raw({192, 0, 2, 2, 9});  // five bytes
    p.rr_at(12, t_a).raw({192, 0, 2, 3});
    auto wire = p.take();
    DnsMessage m;
    CHECK(parse(wire, m) == DnsParseStatus::bad_rdata);
    REQUIRE(m.questions.size() == 1);
    REQUIRE(m.answers.size() == 1);
    CHECK(m.answers[0].data == "192.0.2.1");

    // rdlength claims more than the message has.
    Packet q;
    q.header(8, 0x8180, 1, 2, 0, 0);
    q.question("example.test", t_a);
    q.rr_at(12, t_a).raw({192, 0, 2, 1}).end_rr();
    q.pointer(12).u16(t_a).u16(c_in).u32(300).u16(4).raw({192, 0, 2});
    auto cut = q.take();
    CHECK(parse(cut, m) == DnsParseStatus::truncated);
    CHECK(m.answers.size() == 1);

    // A bad name in the authority section keeps the answers.
    Packet r;
    r.header(8, 0x8180, 1, 1, 1, 0);
    r.question("example.test", t_a);
    r.rr_at(12, t_a).raw({192, 0, 2, 1}).end_rr();
    r.raw({0xc0, 0xff}).u16(t_ns).u16(c_in).u32(1).u16(0);
    auto bad = r.take();
    CHECK(parse(bad, m) == DnsParseStatus::bad_pointer);
    CHECK(m.answers.size() == 1);
    CHECK(m.authority.empty());
}

TEST_CASE("unknown types are rendered in RFC 3597 form") {
    Packet p;
    p.header(9, 0x8180, 1, 2, 0, 0);
    p.question("example.test", 65534);
    p.rr_at(12, 65534).raw({0x0a, 0x00, 0x00, 0x01});
    p.rr_at(12, 65534);
    auto wire = p.take();
    DnsMessage m;
    REQUIRE(parse(wire, m) == DnsParseStatus::ok);
    CHECK(m.questions[0].type == 65534);
    CHECK(m.answers[0].data == "\\# 4 0a000001");
    CHECK(m.answers[1].data == "\\# 0");
}

TEST_CASE("classes: IN-only formats are opaque elsewhere, UPDATE classes always") {
    Packet p;
    p.header(10, 0x8400, 1, 3, 0, 0);
    p.question("version.bind", t_txt, c_ch);
    p.rr_at(12, t_txt, c_ch, 0).label("dnsvis 1.0");
    p.rr_at(12, t_a, c_ch, 0).raw({0x01, 0x02, 0xab, 0xcd, 0x00, 0x00});  // Chaosnet address
    p.rr_at(12, t_a, c_any, 0);                                           // UPDATE: delete an RRset, no rdata
    auto wire = p.take();
    DnsMessage m;
    REQUIRE(parse(wire, m) == DnsParseStatus::ok);
    CHECK(m.questions[0].klass == c_ch);
    CHECK(m.answers[0].data == "\"dnsvis 1.0\"");
    CHECK(m.answers[1].data == "\\# 6 0102abcd0000");
    CHECK(m.answers[2].data == "\\# 0");
}

TEST_CASE("bytes after the last record are tolerated") {
    auto wire = Packet().header(1, 0, 1, 0, 0, 0).question("example.test", t_a).raw({0, 0, 0}).take();
    DnsMessage m;
    CHECK(parse(wire, m) == DnsParseStatus::ok);
    CHECK(m.questions.size() == 1);
}

TEST_CASE("a reused message carries nothing over") {
    auto big = realistic_response();
    auto small = Packet().header(2, 0x0100, 1, 0, 0, 0).question("x.test", t_https).take();
    DnsMessage m;
    REQUIRE(parse(big, m) == DnsParseStatus::ok);
    REQUIRE(parse(small, m) == DnsParseStatus::ok);
    CHECK(m.id == 2);
    CHECK(m.answer_count == 0);
    CHECK(m.answers.empty());
    CHECK(m.authority.empty());
    CHECK(m.additional.empty());
    CHECK_FALSE(m.edns.has_value());
    REQUIRE(m.questions.size() == 1);
    CHECK(m.questions[0].name == "x.test");

    m.clear();
    CHECK(m.id == 0);
    CHECK(m.flags == 0);
    CHECK(m.question_count == 0);
    CHECK(m.additional_count == 0);
    CHECK(m.questions.empty());
}

TEST_CASE("forged counts do not matter beyond the bytes present") {
    auto wire = Packet().header(1, 0x8180, 0xffff, 0xffff, 0xffff, 0xffff).question("a.test", t_a).take();
    DnsMessage m;
    CHECK(parse(wire, m) == DnsParseStatus::truncated);
    CHECK(m.questions.size() == 1);
    CHECK(m.question_count == 0xffff);
}

namespace {

// What the reported depth promises: of `wire`, the same status, header,
// first question, answers (all but their names, left empty) and EDNS as the
// full depth, and no other question, authority or additional records.
// Returns the status.
DnsParseStatus check_reported_agrees(const std::vector<uint8_t>& wire) {
    DnsMessage full, reported;
    const DnsParseStatus status = parse(wire, full);
    CHECK(parse(wire, reported, DnsParseDepth::reported) == status);
    CHECK(reported.id == full.id);
    CHECK(reported.flags == full.flags);
    CHECK(reported.question_count == full.question_count);
    CHECK(reported.answer_count == full.answer_count);
    CHECK(reported.authority_count == full.authority_count);
    CHECK(reported.additional_count == full.additional_count);
    REQUIRE(reported.questions.size() == std::min<size_t>(full.questions.size(), 1));
    for (size_t i = 0; i < reported.questions.size(); ++i) {
        CHECK(reported.questions[i].name == full.questions[i].name);
        CHECK(reported.questions[i].type == full.questions[i].type);
        CHECK(reported.questions[i].klass == full.questions[i].klass);
    }
    REQUIRE(reported.answers.size() == full.answers.size());
    for (size_t i = 0; i < full.answers.size(); ++i) {
        CAPTURE(i);
        CHECK(reported.answers[i].name.empty());
        CHECK(reported.answers[i].type == full.answers[i].type);
        CHECK(reported.answers[i].klass == full.answers[i].klass);
        CHECK(reported.answers[i].ttl == full.answers[i].ttl);
        CHECK(reported.answers[i].data == full.answers[i].data);
    }
    CHECK(reported.authority.empty());
    CHECK(reported.additional.empty());
    REQUIRE(reported.edns.has_value() == full.edns.has_value());
    if (full.edns) {
        CHECK(reported.edns->udp_payload_size == full.edns->udp_payload_size);
        CHECK(reported.edns->extended_rcode == full.edns->extended_rcode);
        CHECK(reported.edns->version == full.edns->version);
        CHECK(reported.edns->dnssec_ok == full.edns->dnssec_ok);
    }
    CHECK(reported.rcode() == full.rcode());
    return status;
}

}  // namespace

TEST_CASE("reported depth: what the daemon reports is what the full parse gives") {
    SUBCASE("a realistic compressed response") {
        auto wire = realistic_response();
        REQUIRE(check_reported_agrees(wire) == DnsParseStatus::ok);
        // Not vacuous: the full parse has names and records to leave out.
        DnsMessage m;
        REQUIRE(parse(wire, m, DnsParseDepth::reported) == DnsParseStatus::ok);
        REQUIRE(m.answers.size() == 4);
        CHECK(m.answers[0].data == "alias2.example.test");
        CHECK(m.answers[3].data == "2001:db8::10");
        REQUIRE(m.edns.has_value());
        CHECK(m.edns->udp_payload_size == 1232);
    }
    SUBCASE("a real HTTPS response from NSD") {
        CHECK(check_reported_agrees(nsd_https_response) == DnsParseStatus::ok);
    }
    SUBCASE("a query, a bare header, a message without a question") {
        CHECK(check_reported_agrees(one_question("www.example.test")) == DnsParseStatus::ok);
        CHECK(check_reported_agrees({0xab, 0xcd, 0x81, 0x83, 0, 0, 0, 0, 0, 0, 0, 0}) == DnsParseStatus::ok);
        CHECK(check_reported_agrees(Packet().header(9, 0x8105, 0, 0, 0, 1).opt(4096, 0, 0, false).take()) ==
              DnsParseStatus::ok);
    }
    SUBCASE("too short") {
        CHECK(check_reported_agrees({}) == DnsParseStatus::too_short);
        CHECK(check_reported_agrees(std::vector<uint8_t>(11, 0xff)) == DnsParseStatus::too_short);
    }
    SUBCASE("extended rcode") {
        auto wire = Packet().header(3, 0x810f, 1, 0, 0, 1).question("example.test", t_a).opt(512, 0xff, 1, true).take();
        REQUIRE(check_reported_agrees(wire) == DnsParseStatus::ok);
        DnsMessage m;
        REQUIRE(parse(wire, m, DnsParseDepth::reported) == DnsParseStatus::ok);
        CHECK(m.rcode() == 4095);
    }
    SUBCASE("classes, unknown types, the root, compressed owner names") {
        Packet p;
        p.header(10, 0x8400, 1, 6, 1, 1);
        p.question("version.bind", t_txt, c_ch);
        p.rr_at(12, t_txt, c_ch, 0).label("dnsvis 1.0");
        p.rr_at(12, t_a, c_ch, 0).raw({0x01, 0x02, 0xab, 0xcd, 0x00, 0x00});
        p.rr_at(12, t_a, c_any, 0);
        p.rr_at(12, 65534).raw({0x0a, 0x00, 0x00, 0x01});
        p.rr(".", t_ns, c_in, 7).name(".");
        p.rr("Mail.Example.TEST", t_mx, c_in, 9).u16(10).pointer(12);
        p.rr_at(12, t_soa).name("ns1.example.test").name("hostmaster.example.test");
        p.u32(1).u32(2).u32(3).u32(4).u32(5);
        p.rr_at(12, t_a).raw({192, 0, 2, 1});
        CHECK(check_reported_agrees(p.take()) == DnsParseStatus::ok);
    }
    SUBCASE("every prefix of a response: truncated, and what was complete is kept alike") {
        for (const auto& wire : {realistic_response(), nsd_https_response}) {
            for (size_t length = 0; length < wire.size(); ++length) {
                CAPTURE(length);
                CHECK(check_reported_agrees(std::vector<uint8_t>(
                          wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(length))) != DnsParseStatus::ok);
            }
        }
    }
}

TEST_CASE("reported depth: a bad owner name is the same error as in the full parse, in every section") {
    const std::string l62(62, 'c'), l63(63, 'a');
    // Every name wrong in one way, as wire bytes from where the owner name
    // starts; `last` ones run to the end of the message. A pointer relative
    // to the owner name is written at `pointer_at`, to `owner + pointer_to`.
    struct BadName {
        std::string what;
        std::vector<uint8_t> bytes;
        DnsParseStatus status;
        bool last = false;
        int pointer_at = -1;
        size_t pointer_to = 0;
    };
    std::vector<uint8_t> long_label = {64};
    long_label.insert(long_label.end(), 64, 'x');
    long_label.push_back(0);
    std::vector<uint8_t> many_labels;  // 128 labels: 257 bytes
    for (int i = 0; i < 128; ++i)
        many_labels.insert(many_labels.end(), {1, 'z'});
    many_labels.push_back(0);
    // The question below is l63.l63.l63 at offset 12, 193 bytes in wire form.
    std::vector<uint8_t> long_with_suffix = {62};
    long_with_suffix.insert(long_with_suffix.end(), l62.begin(), l62.end());
    long_with_suffix.insert(long_with_suffix.end(), {0xc0, 12});
    const std::vector<BadName> bad_names = {
        {"pointer past the end", {0xff, 0xff}, DnsParseStatus::bad_pointer},
        {"forward pointer to a valid name", {0, 0, 0}, DnsParseStatus::bad_pointer, false, 0, 2},
        {"pointer to itself", {0, 0}, DnsParseStatus::bad_pointer, false, 0, 0},
        {"pointer back into its own name", {1, 'a', 0, 0}, DnsParseStatus::bad_pointer, false, 2, 0},
        {"pointer cut after its first byte", {1, 'a', 0xc0}, DnsParseStatus::truncated, true},
        {"label running past the end", {5, 'a', 'b'}, DnsParseStatus::truncated, true},
        {"no root label", {3, 'n', 's', '1', 4, 't', 'e', 's', 't'}, DnsParseStatus::truncated, true},
        // A "label of 64 bytes" cannot be told from the extended label type 0x40.
        {"label too long", long_label, DnsParseStatus::bad_label_type},
        {"label type 0x80", {0x80, 0x00}, DnsParseStatus::bad_label_type},
        {"label type 0x40 after a label", {1, 'a', 0x40, 0x00}, DnsParseStatus::bad_label_type},
        {"name too long", many_labels, DnsParseStatus::name_too_long},
        {"name too long once the pointed-to suffix is added", long_with_suffix, DnsParseStatus::name_too_long},
    };
    for (int section = 0; section < 3; ++section) {
        for (const BadName& bad : bad_names) {
            CAPTURE(section);
            CAPTURE(bad.what);
            // A good record in each section before the bad one, and an OPT
            // before it in the additional section, so each section reached
            // is compared.
            Packet p;
            p.header(0x4444, 0x8180, 1, section == 0 ? 1 : 2, section == 0 ? 0 : 1, section == 2 ? 2 : 0);
            p.question(l63 + "." + l63 + "." + l63, t_a);
            if (section > 0) {
                p.rr_at(12, t_a).raw({192, 0, 2, 1});
                p.rr_at(12, t_a).raw({192, 0, 2, 2});
            }
            if (section > 1)
                p.rr_at(12, t_ns).labels("ns1").pointer(12);
            if (section == 2)
                p.opt(1400, 0, 0, true);
            p.end_rr();
            const size_t owner = p.here();
            std::vector<uint8_t> bytes = bad.bytes;
            if (bad.pointer_at >= 0) {
                const size_t target = owner + bad.pointer_to;
                bytes[static_cast<size_t>(bad.pointer_at)] = static_cast<uint8_t>(0xc0 | (target >> 8));
                bytes[static_cast<size_t>(bad.pointer_at) + 1] = static_cast<uint8_t>(target);
            }
            for (uint8_t b : bytes)
                p.u8(b);
            if (!bad.last)
                p.u16(t_a).u16(c_in).u32(300).u16(4).raw({192, 0, 2, 3});
            auto wire = p.take();
            DnsMessage full;
            CHECK(parse(wire, full) == bad.status);
            CHECK(check_reported_agrees(wire) == bad.status);
            // The sections before the bad record were read in both depths.
            CHECK(full.answers.size() == (section == 0 ? 0u : 2u));
        }
    }
}

TEST_CASE("reported depth: rdata past the end of the message, in the last record of each section") {
    // Nothing follows the record whose rdlength overshoots, so only the
    // bounds check of that record can tell.
    for (int section = 0; section < 3; ++section) {
        for (uint16_t type : {t_a, t_ns, t_opt}) {
            CAPTURE(section);
            CAPTURE(type);
            Packet p;
            p.header(8, 0x8180, 1, section == 0 ? 1 : 0, section == 1 ? 1 : 0, section == 2 ? 1 : 0);
            p.question("example.test", t_a);
            p.pointer(12).u16(type).u16(c_in).u32(300).u16(4).raw({192, 0, 2});
            auto wire = p.take();
            CHECK(check_reported_agrees(wire) == DnsParseStatus::truncated);
            // A cut OPT record is not half read either.
            DnsMessage m;
            parse(wire, m, DnsParseDepth::reported);
            CHECK_FALSE(m.edns.has_value());
        }
    }
}

TEST_CASE("reported depth: the OPT record is found after other additional records, and a second one is ignored") {
    Packet p;
    p.header(4, 0x8180, 1, 1, 1, 5);
    p.question("www.example.test", t_a);
    p.rr_at(12, t_a).raw({192, 0, 2, 1});
    p.rr("example.test", t_ns).name("ns1.example.test");
    p.rr("ns1.example.test", t_a).raw({192, 0, 2, 53});
    p.rr("ns1.example.test", t_aaaa).raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53});
    p.opt(1232, 2, 0, true);
    p.rr("ns2.example.test", t_a).raw({192, 0, 2, 54});
    p.opt(4096, 0, 1, false);
    auto wire = p.take();
    REQUIRE(check_reported_agrees(wire) == DnsParseStatus::ok);
    DnsMessage m;
    REQUIRE(parse(wire, m, DnsParseDepth::reported) == DnsParseStatus::ok);
    REQUIRE(m.edns.has_value());
    CHECK(m.edns->udp_payload_size == 1232);
    CHECK(m.edns->extended_rcode == 2);
    CHECK(m.edns->version == 0);
    CHECK(m.edns->dnssec_ok);
    CHECK(m.rcode() == 32);
    CHECK(m.additional.empty());
    CHECK(m.additional_count == 5);

    // In the answer section, OPT is an ordinary record in both depths.
    Packet q;
    q.header(4, 0x8100, 0, 1, 0, 1);
    q.rr(".", t_opt, 1232, 0).raw({0, 10, 0, 2, 0xaa, 0xbb});
    q.opt(512, 0, 0, false);
    auto in_answers = q.take();
    REQUIRE(check_reported_agrees(in_answers) == DnsParseStatus::ok);
    REQUIRE(parse(in_answers, m, DnsParseDepth::reported) == DnsParseStatus::ok);
    REQUIRE(m.answers.size() == 1);
    CHECK(m.answers[0].data == "\\# 6 000a0002aabb");
    CHECK(m.edns->udp_payload_size == 512);
}

TEST_CASE("reported depth: rdata is checked in the answer section only") {
    // Rdata that only rendering finds wrong: an error wherever it is in the
    // full parse, but authority and additional rdata is not looked at in the
    // reported depth, which goes on to the OPT record.
    std::vector<uint8_t> long_name;  // 128 labels: 257 bytes
    for (int i = 0; i < 128; ++i)
        long_name.insert(long_name.end(), {1, 'z'});
    long_name.push_back(0);
    struct BadRdata {
        std::string what;
        uint16_t type;
        std::vector<uint8_t> rdata;
        DnsParseStatus status;
    };
    const std::vector<BadRdata> bad_rdata = {
        {"A with five bytes", t_a, {192, 0, 2, 2, 9}, DnsParseStatus::bad_rdata},
        {"NS: a name running past the rdata", t_ns, {3, 'n', 's', '1'}, DnsParseStatus::bad_rdata},
        {"NS: a forward pointer", t_ns, {0xc0, 0xff}, DnsParseStatus::bad_pointer},
        {"CNAME: label type 0x80", t_cname, {0x80, 0x00}, DnsParseStatus::bad_label_type},
        {"SOA: a second name too long", t_soa, {0xc0, 12}, DnsParseStatus::name_too_long},
    };
    for (const BadRdata& bad : bad_rdata) {
        for (int section = 0; section < 3; ++section) {
            CAPTURE(bad.what);
            CAPTURE(section);
            Packet p;
            p.header(8, 0x8180, 1, section == 0 ? 1 : 0, section == 1 ? 1 : 0, section == 2 ? 2 : 1);
            p.question("example.test", t_a);
            p.rr_at(12, bad.type);
            for (uint8_t b : bad.rdata)
                p.u8(b);
            if (bad.type == t_soa) {  // a good first name, then this one
                for (uint8_t b : long_name)
                    p.u8(b);
                p.u32(1).u32(2).u32(3).u32(4).u32(5);
            }
            p.opt(1232, 0, 0, false);
            auto wire = p.take();
            if (section == 0) {
                CHECK(check_reported_agrees(wire) == bad.status);
                continue;
            }
            DnsMessage full, reported;
            CHECK(parse(wire, full) == bad.status);
            CHECK_FALSE(full.edns.has_value());
            CHECK(parse(wire, reported, DnsParseDepth::reported) == DnsParseStatus::ok);
            CHECK(reported.edns.has_value());
        }
    }
}

TEST_CASE("reported depth: a message reused across depths carries nothing over") {
    auto wire = realistic_response();
    DnsMessage m;
    REQUIRE(parse(wire, m) == DnsParseStatus::ok);
    REQUIRE(parse(wire, m, DnsParseDepth::reported) == DnsParseStatus::ok);
    CHECK(m.answers[0].name.empty());
    CHECK(m.authority.empty());
    CHECK(m.additional.empty());
    REQUIRE(parse(wire, m) == DnsParseStatus::ok);
    CHECK(m.answers[0].name == "alias.example.test");
    CHECK(m.authority.size() == 2);
}

TEST_CASE("reported depth: only the first question is kept, the others are checked alike") {
    Packet p;
    p.header(0x5151, 0x0100, 3, 0, 0, 0);
    p.question("first.example.test", t_aaaa);
    p.question("second.example.test", t_mx, c_ch);
    p.labels("third").pointer(12).u16(t_txt).u16(c_in);
    auto wire = p.take();
    DnsMessage full, reported;
    REQUIRE(parse(wire, full) == DnsParseStatus::ok);
    CHECK(full.questions.size() == 3);
    REQUIRE(check_reported_agrees(wire) == DnsParseStatus::ok);
    REQUIRE(parse(wire, reported, DnsParseDepth::reported) == DnsParseStatus::ok);
    CHECK(reported.question_count == 3);  // the wire count, not what was kept
    REQUIRE(reported.questions.size() == 1);
    CHECK(reported.questions[0].name == "first.example.test");
    CHECK(reported.questions[0].type == t_aaaa);
    CHECK(reported.questions[0].klass == c_in);

    // A bad second question (and what follows it): the same error at both
    // depths, though the reported depth does not render it.
    std::vector<uint8_t> many_labels;  // 128 labels: 257 bytes
    for (int i = 0; i < 128; ++i)
        many_labels.insert(many_labels.end(), {1, 'z'});
    many_labels.insert(many_labels.end(), {0, 0, 1, 0, 1});
    struct BadQuestion {
        std::string what;
        std::vector<uint8_t> bytes;
        DnsParseStatus status;
    };
    const std::vector<BadQuestion> bad_questions = {
        {"reserved label type", {0x40, 0, 0, 1, 0, 1}, DnsParseStatus::bad_label_type},
        {"forward pointer", {0xc0, 0xff, 0, 1, 0, 1}, DnsParseStatus::bad_pointer},
        {"name too long", many_labels, DnsParseStatus::name_too_long},
        {"name running past the end", {5, 'a', 'b'}, DnsParseStatus::truncated},
        {"type and class cut short", {1, 'b', 0, 0, 1, 0}, DnsParseStatus::truncated},
    };
    for (const BadQuestion& bad : bad_questions) {
        CAPTURE(bad.what);
        Packet q;
        q.header(0x5152, 0x0100, 3, 0, 0, 0).question("first.example.test", t_a);
        for (uint8_t b : bad.bytes)
            q.u8(b);
        auto bad_wire = q.take();
        CHECK(parse(bad_wire, full) == bad.status);
        CHECK(full.questions.size() == 1);
        CHECK(parse(bad_wire, reported, DnsParseDepth::reported) == bad.status);
        REQUIRE(reported.questions.size() == 1);
        CHECK(reported.questions[0].name == "first.example.test");
        CHECK(check_reported_agrees(bad_wire) == bad.status);
    }
}

TEST_CASE("skip_wire_name checks names exactly as append_wire_name reads them") {
    // Every offset of every prefix of two responses, read as a name: mostly
    // garbage, which is the point; the status and the end must agree.
    for (const auto& message : {realistic_response(), nsd_https_response}) {
        for (size_t length = 0; length <= message.size(); ++length) {
            const std::span<const uint8_t> prefix(message.data(), length);
            for (size_t offset = 0; offset <= length; ++offset) {
                std::string name;
                size_t read_end = 12345, skip_end = 12345;
                const DnsParseStatus read = append_wire_name(prefix, offset, name, read_end);
                const DnsParseStatus skip = skip_wire_name(prefix, offset, skip_end);
                if (read != skip || read_end != skip_end) {
                    CAPTURE(length);
                    CAPTURE(offset);
                    CHECK(skip == read);
                    CHECK(skip_end == read_end);
                }
            }
        }
    }
}

namespace {

// A response whose second answer has an owner name reaching the question,
// "a", through `jumps` pointers: its own, then a chain of jumps - 1 hidden
// in the first answer's opaque rdata, each pointing at the one before.
std::vector<uint8_t> owner_name_through_pointers(size_t jumps) {
    Packet p;
    p.header(0x1280, 0x8180, 1, 2, 0, 0);
    p.question("a", t_a);
    p.rr_at(12, 65534);
    size_t previous = 12;
    for (size_t i = 1; i < jumps; ++i) {
        const size_t here = p.here();
        p.pointer(previous);
        previous = here;
    }
    p.rr_at(previous, t_a).raw({192, 0, 2, 1});
    return p.take();
}

}  // namespace

TEST_CASE("compression: at most 128 pointer jumps in one name") {
    // Every pointer of a chain points strictly backwards, so the chain is
    // legal link by link; only its length gives it away.
    SUBCASE("a chain of pointers, read directly") {
        // "a" at 0, then pointers each to the one before it.
        std::vector<uint8_t> chain = {1, 'a', 0};
        std::vector<size_t> reached_in;  // reached_in[n]: the pointer n jumps from "a"
        reached_in.push_back(0);
        for (size_t n = 1; n <= 130; ++n) {
            reached_in.push_back(chain.size());
            chain.push_back(static_cast<uint8_t>(0xc0 | (reached_in[n - 1] >> 8)));
            chain.push_back(static_cast<uint8_t>(reached_in[n - 1]));
        }
        const std::span<const uint8_t> message(chain);
        for (size_t jumps : {1, 127, 128, 129, 130}) {
            CAPTURE(jumps);
            const DnsParseStatus expected = jumps <= 128 ? DnsParseStatus::ok : DnsParseStatus::bad_pointer;
            std::string name = "kept:";
            size_t read_end = 12345, skip_end = 12345;
            CHECK(append_wire_name(message, reached_in[jumps], name, read_end) == expected);
            CHECK(skip_wire_name(message, reached_in[jumps], skip_end) == expected);
            // On error `out` and `end` are untouched.
            CHECK(name == (jumps <= 128 ? "kept:a" : "kept:"));
            CHECK(read_end == (jumps <= 128 ? reached_in[jumps] + 2 : 12345));
            CHECK(skip_end == read_end);
        }
    }
    SUBCASE("the most jumps an encoder can need: one per label and one more") {
        // The root at 0, then 127 runs of one label each ending in a pointer
        // to the run before (the first to the root), and a pointer to the
        // last run: 127 labels, 255 bytes, 128 jumps.
        std::vector<uint8_t> runs = {0};
        size_t previous = 0;
        for (int i = 0; i < 127; ++i) {
            const size_t here = runs.size();
            runs.insert(runs.end(), {1, 'z', static_cast<uint8_t>(0xc0 | (previous >> 8)),
                                     static_cast<uint8_t>(previous)});
            previous = here;
        }
        const size_t start = runs.size();
        runs.insert(runs.end(), {static_cast<uint8_t>(0xc0 | (previous >> 8)), static_cast<uint8_t>(previous)});
        std::string name;
        size_t end = 0;
        REQUIRE(append_wire_name(std::span<const uint8_t>(runs), start, name, end) == DnsParseStatus::ok);
        CHECK(name.size() == 253);
        CHECK(name.substr(0, 6) == "z.z.z.");
        CHECK(end == start + 2);
    }
    SUBCASE("an owner name in a message, at both depths") {
        auto longest = owner_name_through_pointers(128);
        DnsMessage m;
        REQUIRE(parse(longest, m) == DnsParseStatus::ok);
        REQUIRE(m.answers.size() == 2);
        CHECK(m.answers[1].name == "a");
        CHECK(m.answers[1].data == "192.0.2.1");
        CHECK(check_reported_agrees(longest) == DnsParseStatus::ok);

        auto too_long = owner_name_through_pointers(129);
        CHECK(parse(too_long, m) == DnsParseStatus::bad_pointer);
        CHECK(m.answers.size() == 1);
        CHECK(check_reported_agrees(too_long) == DnsParseStatus::bad_pointer);
    }
}

namespace {

// The most one name renders to: 255 bytes in wire form (labels of 63, 63,
// 63 and 61 bytes), every byte escaped as \DDD, and three dots.
constexpr size_t longest_text_name = 250 * 4 + 3;

void put_longest_text_name(Packet& p) {
    for (size_t length : {63, 63, 63, 61})
        p.label(std::string(length, '\0'));
    p.u8(0);
}

// A TCP-sized message: the longest text name as the question, then as many
// 14-byte CNAME records as fit, owner and rdata both pointing at it.
std::vector<uint8_t> cname_bomb() {
    constexpr size_t records = (65535 - 12 - 255 - 4) / 14;
    Packet p;
    p.header(0xb0b0, 0x8180, 1, static_cast<uint16_t>(records), 0, 0);
    put_longest_text_name(p);
    p.u16(t_a).u16(c_in);
    for (size_t i = 0; i < records; ++i)
        p.rr_at(12, t_cname).pointer(12);
    return p.take();
}

}  // namespace

TEST_CASE("text budget: a CNAME compression bomb stops with over-text-budget") {
    const auto wire = cname_bomb();
    REQUIRE(wire.size() > 65500);
    const size_t budget = dns_text_budget(wire.size());
    for (DnsParseDepth depth : {DnsParseDepth::full, DnsParseDepth::reported}) {
        CAPTURE(static_cast<int>(depth));
        DnsMessage m;
        CHECK(parse(wire, m, depth) == DnsParseStatus::over_text_budget);
        REQUIRE(m.questions.size() == 1);
        CHECK(m.questions[0].name.size() == longest_text_name);
        // Each answer renders its rdata, and its owner name at full depth.
        const size_t per_answer = (depth == DnsParseDepth::full ? 2 : 1) * longest_text_name;
        // Every answer that fitted is kept, and none more.
        CHECK(m.answers.size() == (budget - longest_text_name) / per_answer);
        CHECK(m.answers.size() < m.answer_count);
        CHECK(m.rendered_text_size() <= budget);
        CHECK(m.rendered_text_size() + per_answer > budget);
        REQUIRE(!m.answers.empty());
        CHECK(m.answers.back().data == m.questions[0].name);
    }
}

TEST_CASE("text budget: a question bomb is cut short at full depth, and costs one name at the reported one") {
    constexpr size_t repeats = (65535 - 12 - 255 - 4) / 6;
    Packet p;
    p.header(0xb0b1, 0x0100, static_cast<uint16_t>(1 + repeats), 0, 0, 0);
    put_longest_text_name(p);
    p.u16(t_a).u16(c_in);
    for (size_t i = 0; i < repeats; ++i)
        p.pointer(12).u16(t_a).u16(c_in);
    const auto wire = p.take();
    const size_t budget = dns_text_budget(wire.size());

    DnsMessage m;
    CHECK(parse(wire, m) == DnsParseStatus::over_text_budget);
    CHECK(m.questions.size() == budget / longest_text_name);
    CHECK(m.rendered_text_size() <= budget);

    CHECK(parse(wire, m, DnsParseDepth::reported) == DnsParseStatus::ok);
    CHECK(m.question_count == 1 + repeats);
    REQUIRE(m.questions.size() == 1);
    CHECK(m.questions[0].name.size() == longest_text_name);
}

TEST_CASE("text budget: large legitimate messages parse completely") {
    SUBCASE("140 AAAA answers in a 4 KB response") {
        Packet p;
        p.header(0xaaaa, 0x8180, 1, 140, 0, 0);
        p.question("many.example.test", t_aaaa);
        for (uint8_t i = 0; i < 140; ++i)
            p.rr_at(12, t_aaaa).raw({0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11,
                                     0x22, 0x33, i});
        const auto wire = p.take();
        CHECK(wire.size() > 3900);
        for (DnsParseDepth depth : {DnsParseDepth::full, DnsParseDepth::reported}) {
            CAPTURE(static_cast<int>(depth));
            DnsMessage m;
            REQUIRE(parse(wire, m, depth) == DnsParseStatus::ok);
            REQUIRE(m.answers.size() == 140);
            CHECK(m.answers[139].data == "2001:db8:1234:5678:9abc:def0:1122:338b");
        }
    }
    SUBCASE("a TXT record of 64000 bytes that all need escapes") {
        Packet p;
        p.header(0x7777, 0x8180, 1, 1, 0, 0);
        p.question("binary.example.test", t_txt);
        p.rr_at(12, t_txt);
        for (int i = 0; i < 250; ++i)
            p.u8(255).raw(std::string(255, '\xff'));
        const auto wire = p.take();
        for (DnsParseDepth depth : {DnsParseDepth::full, DnsParseDepth::reported}) {
            CAPTURE(static_cast<int>(depth));
            DnsMessage m;
            REQUIRE(parse(wire, m, depth) == DnsParseStatus::ok);
            REQUIRE(m.answers.size() == 1);
            // 250 quoted strings of 255 \255 escapes, and the spaces between.
            CHECK(m.answers[0].data.size() == 250 * (2 + 255 * 4) + 249);
        }
    }
}

TEST_CASE("status names") {
    CHECK(to_string(DnsParseStatus::ok) == "ok");
    CHECK(to_string(DnsParseStatus::too_short) == "too-short");
    CHECK(to_string(DnsParseStatus::truncated) == "truncated");
    CHECK(to_string(DnsParseStatus::label_too_long) == "label-too-long");
    CHECK(to_string(DnsParseStatus::name_too_long) == "name-too-long");
    CHECK(to_string(DnsParseStatus::bad_pointer) == "bad-pointer");
    CHECK(to_string(DnsParseStatus::bad_label_type) == "bad-label-type");
    CHECK(to_string(DnsParseStatus::bad_rdata) == "bad-rdata");
    CHECK(to_string(DnsParseStatus::over_text_budget) == "over-text-budget");
    CHECK(to_string(DnsParseStatus::trailing_garbage) == "trailing-garbage");
}
