#include "dns_rdata.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <string_view>

#include "dns_wire_name.hpp"

namespace dnsvis {

namespace {

namespace rr {
inline constexpr uint16_t a = 1;
inline constexpr uint16_t ns = 2;
inline constexpr uint16_t cname = 5;
inline constexpr uint16_t soa = 6;
inline constexpr uint16_t ptr = 12;
inline constexpr uint16_t mx = 15;
inline constexpr uint16_t txt = 16;
inline constexpr uint16_t aaaa = 28;
inline constexpr uint16_t srv = 33;
inline constexpr uint16_t svcb = 64;
inline constexpr uint16_t https = 65;
}  // namespace rr

// SvcParamKeys (RFC 9460 section 14.3.2, RFC 9461, RFC 9540).
namespace svc_key {
inline constexpr uint16_t mandatory = 0;
inline constexpr uint16_t alpn = 1;
inline constexpr uint16_t no_default_alpn = 2;
inline constexpr uint16_t port = 3;
inline constexpr uint16_t ipv4hint = 4;
inline constexpr uint16_t ech = 5;
inline constexpr uint16_t ipv6hint = 6;
inline constexpr uint16_t dohpath = 7;
inline constexpr uint16_t ohttp = 8;
}  // namespace svc_key

constexpr char hex_digits[] = "0123456789abcdef";

// Reading of one record's rdata; callers check remaining() first. `end` is
// the end of the rdata, not of the message: nothing in it may run past it.
struct RdataReader {
    std::span<const uint8_t> message;
    size_t pos;
    size_t end;

    size_t remaining() const { return end - pos; }
    const uint8_t* here() const { return message.data() + pos; }
    uint16_t u16() {
        uint16_t v = static_cast<uint16_t>((message[pos] << 8) | message[pos + 1]);
        pos += 2;
        return v;
    }
    uint32_t u32() {
        uint32_t v = (uint32_t{message[pos]} << 24) | (uint32_t{message[pos + 1]} << 16) |
                     (uint32_t{message[pos + 2]} << 8) | uint32_t{message[pos + 3]};
        pos += 4;
        return v;
    }
};

void append_number(std::string& out, uint32_t value) {
    char buffer[10];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, static_cast<size_t>(result.ptr - buffer));
}

void append_decimal3(std::string& out, uint8_t b) {
    const char digits[4] = {'\\', static_cast<char>('0' + b / 100), static_cast<char>('0' + (b / 10) % 10),
                            static_cast<char>('0' + b % 10)};
    out.append(digits, 4);
}

void append_ipv4(std::string& out, const uint8_t* bytes) {
    char buffer[16];
    char* p = buffer;
    for (int i = 0; i < 4; ++i) {
        if (i != 0)
            *p++ = '.';
        // Bounded by the three digits a byte takes, not the buffer's end:
        // g++ cannot tell that to_chars never fails here, and warned of a
        // '.' past the end after a failure.
        p = std::to_chars(p, p + 3, bytes[i]).ptr;
    }
    out.append(buffer, static_cast<size_t>(p - buffer));
}

// glibc's inet_ntop follows RFC 5952 (longest zero run, lower case, no "::"
// for a single zero field, ::ffff:a.b.c.d for mapped addresses).
void append_ipv6(std::string& out, const uint8_t* bytes) {
    char buffer[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, bytes, buffer, sizeof buffer) != nullptr)
        out += buffer;
}

// A name inside rdata: it must end inside the rdata, but its pointers may
// lead anywhere earlier in the message.
DnsParseStatus append_rdata_name(RdataReader& r, std::string& out) {
    size_t next = 0;
    DnsParseStatus status = append_wire_name(r.message.first(r.end), r.pos, out, next);
    if (status == DnsParseStatus::truncated)
        return DnsParseStatus::bad_rdata;
    if (status != DnsParseStatus::ok)
        return status;
    r.pos = next;
    return DnsParseStatus::ok;
}

// Zone-file <character-string> contents inside double quotes.
void append_quoted(std::string& out, const uint8_t* data, size_t length) {
    out += '"';
    for (size_t i = 0; i < length; ++i) {
        const uint8_t b = data[i];
        if (b == '"' || b == '\\') {
            out += '\\';
            out += static_cast<char>(b);
        } else if (b < 0x20 || b > 0x7e) {
            append_decimal3(out, b);
        } else {
            out += static_cast<char>(b);
        }
    }
    out += '"';
}

void append_base64(std::string& out, const uint8_t* data, size_t length) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 3 <= length; i += 3) {
        const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
        const char quad[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], alphabet[v & 63]};
        out.append(quad, 4);
    }
    if (length - i == 1) {
        const uint32_t v = uint32_t{data[i]} << 16;
        const char quad[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], '=', '='};
        out.append(quad, 4);
    } else if (length - i == 2) {
        const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
        const char quad[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], '='};
        out.append(quad, 4);
    }
}

void append_svc_key_name(std::string& out, uint16_t key) {
    switch (key) {
        case svc_key::mandatory:
            out += "mandatory";
            return;
        case svc_key::alpn:
            out += "alpn";
            return;
        case svc_key::no_default_alpn:
            out += "no-default-alpn";
            return;
        case svc_key::port:
            out += "port";
            return;
        case svc_key::ipv4hint:
            out += "ipv4hint";
            return;
        case svc_key::ech:
            out += "ech";
            return;
        case svc_key::ipv6hint:
            out += "ipv6hint";
            return;
        case svc_key::dohpath:
            out += "dohpath";
            return;
        case svc_key::ohttp:
            out += "ohttp";
            return;
        default:
            out += "key";
            append_number(out, key);
            return;
    }
}

// One alpn-id inside an unquoted value list (RFC 9460 appendix A.1): ',' and
// '\' are escaped for the list, and that escape is escaped again for the
// zone-file string, hence "\\," and "\\\\". Bytes a zone-file parser would
// choke on become \DDD or a backslash escape.
void append_alpn_id(std::string& out, const uint8_t* data, size_t length) {
    for (size_t i = 0; i < length; ++i) {
        const uint8_t b = data[i];
        if (b == ',') {
            out += "\\\\,";
        } else if (b == '\\') {
            out += "\\\\\\\\";
        } else if (b == '"' || b == ';' || b == '(' || b == ')') {
            out += '\\';
            out += static_cast<char>(b);
        } else if (b < 0x21 || b > 0x7e) {
            append_decimal3(out, b);
        } else {
            out += static_cast<char>(b);
        }
    }
}

bool needs_quotes(const uint8_t* data, size_t length) {
    if (length == 0)
        return true;
    for (size_t i = 0; i < length; ++i) {
        const uint8_t b = data[i];
        if (b < 0x21 || b > 0x7e || b == '"' || b == '\\' || b == ';' || b == '(' || b == ')')
            return true;
    }
    return false;
}

DnsParseStatus append_svc_param(std::string& out, uint16_t key, const uint8_t* value, size_t length) {
    append_svc_key_name(out, key);
    switch (key) {
        case svc_key::mandatory: {
            if (length == 0 || length % 2 != 0)
                return DnsParseStatus::bad_rdata;
            out += '=';
            int previous = -1;
            for (size_t i = 0; i < length; i += 2) {
                const uint16_t listed = static_cast<uint16_t>((value[i] << 8) | value[i + 1]);
                // Sorted, unique, and never "mandatory" itself (RFC 9460 section 8).
                if (listed == svc_key::mandatory || int{listed} <= previous)
                    return DnsParseStatus::bad_rdata;
                previous = listed;
                if (i != 0)
                    out += ',';
                append_svc_key_name(out, listed);
            }
            return DnsParseStatus::ok;
        }
        case svc_key::alpn: {
            if (length == 0)
                return DnsParseStatus::bad_rdata;
            out += '=';
            for (size_t i = 0; i < length;) {
                const size_t id_length = value[i];
                if (id_length == 0 || length - i - 1 < id_length)
                    return DnsParseStatus::bad_rdata;
                if (i != 0)
                    out += ',';
                append_alpn_id(out, value + i + 1, id_length);
                i += 1 + id_length;
            }
            return DnsParseStatus::ok;
        }
        case svc_key::no_default_alpn:
        case svc_key::ohttp:
            return length == 0 ? DnsParseStatus::ok : DnsParseStatus::bad_rdata;
        case svc_key::port:
            if (length != 2)
                return DnsParseStatus::bad_rdata;
            out += '=';
            append_number(out, static_cast<uint16_t>((value[0] << 8) | value[1]));
            return DnsParseStatus::ok;
        case svc_key::ipv4hint:
            if (length == 0 || length % 4 != 0)
                return DnsParseStatus::bad_rdata;
            out += '=';
            for (size_t i = 0; i < length; i += 4) {
                if (i != 0)
                    out += ',';
                append_ipv4(out, value + i);
            }
            return DnsParseStatus::ok;
        case svc_key::ipv6hint:
            if (length == 0 || length % 16 != 0)
                return DnsParseStatus::bad_rdata;
            out += '=';
            for (size_t i = 0; i < length; i += 16) {
                if (i != 0)
                    out += ',';
                append_ipv6(out, value + i);
            }
            return DnsParseStatus::ok;
        case svc_key::ech:
            out += '=';
            if (length == 0) {
                out += "\"\"";
            } else {
                append_base64(out, value, length);
            }
            return DnsParseStatus::ok;
        case svc_key::dohpath:
            out += '=';
            if (needs_quotes(value, length)) {
                append_quoted(out, value, length);
            } else {
                out.append(reinterpret_cast<const char*>(value), length);
            }
            return DnsParseStatus::ok;
        default:
            // RFC 9460 appendix A.2: an empty value may go without "=".
            if (length != 0) {
                out += '=';
                append_quoted(out, value, length);
            }
            return DnsParseStatus::ok;
    }
}

DnsParseStatus render_svcb(RdataReader& r, std::string& out) {
    if (r.remaining() < 3)
        return DnsParseStatus::bad_rdata;
    append_number(out, r.u16());
    out += ' ';
    if (DnsParseStatus s = append_rdata_name(r, out); s != DnsParseStatus::ok)
        return s;
    int previous = -1;
    while (r.remaining() != 0) {
        if (r.remaining() < 4)
            return DnsParseStatus::bad_rdata;
        const uint16_t key = r.u16();
        const uint16_t length = r.u16();
        // Keys strictly increasing: RFC 9460 section 2.2 calls anything
        // else malformed.
        if (int{key} <= previous || r.remaining() < length)
            return DnsParseStatus::bad_rdata;
        previous = key;
        out += ' ';
        if (DnsParseStatus s = append_svc_param(out, key, r.here(), length); s != DnsParseStatus::ok)
            return s;
        r.pos += length;
    }
    return DnsParseStatus::ok;
}

DnsParseStatus render_txt(RdataReader& r, std::string& out) {
    if (r.remaining() == 0)
        return DnsParseStatus::bad_rdata;  // one or more strings
    bool first = true;
    while (r.remaining() != 0) {
        const size_t length = *r.here();
        if (r.remaining() - 1 < length)
            return DnsParseStatus::bad_rdata;
        if (!first)
            out += ' ';
        first = false;
        append_quoted(out, r.here() + 1, length);
        r.pos += 1 + length;
    }
    return DnsParseStatus::ok;
}

void render_unknown(std::span<const uint8_t> rdata, std::string& out) {
    out += "\\# ";
    append_number(out, static_cast<uint32_t>(rdata.size()));
    if (rdata.empty())
        return;
    out += ' ';
    const size_t start = out.size();
    out.resize(start + 2 * rdata.size());
    char* p = out.data() + start;
    for (uint8_t b : rdata) {
        *p++ = hex_digits[b >> 4];
        *p++ = hex_digits[b & 0xf];
    }
}

DnsParseStatus render_known(RdataReader& r, uint16_t type, std::string& out) {
    switch (type) {
        case rr::a:
            if (r.remaining() != 4)
                return DnsParseStatus::bad_rdata;
            append_ipv4(out, r.here());
            r.pos += 4;
            return DnsParseStatus::ok;
        case rr::aaaa:
            if (r.remaining() != 16)
                return DnsParseStatus::bad_rdata;
            append_ipv6(out, r.here());
            r.pos += 16;
            return DnsParseStatus::ok;
        case rr::ns:
        case rr::cname:
        case rr::ptr:
            return append_rdata_name(r, out);
        case rr::mx:
            if (r.remaining() < 3)
                return DnsParseStatus::bad_rdata;
            append_number(out, r.u16());
            out += ' ';
            return append_rdata_name(r, out);
        case rr::srv:
            if (r.remaining() < 7)
                return DnsParseStatus::bad_rdata;
            for (int i = 0; i < 3; ++i) {
                append_number(out, r.u16());
                out += ' ';
            }
            return append_rdata_name(r, out);
        case rr::soa: {
            if (DnsParseStatus s = append_rdata_name(r, out); s != DnsParseStatus::ok)
                return s;
            out += ' ';
            if (DnsParseStatus s = append_rdata_name(r, out); s != DnsParseStatus::ok)
                return s;
            if (r.remaining() != 20)
                return DnsParseStatus::bad_rdata;
            for (int i = 0; i < 5; ++i) {
                out += ' ';
                append_number(out, r.u32());
            }
            return DnsParseStatus::ok;
        }
        case rr::txt:
            return render_txt(r, out);
        case rr::svcb:
        case rr::https:
            return render_svcb(r, out);
        default:
            render_unknown(std::span<const uint8_t>(r.here(), r.remaining()), out);
            r.pos = r.end;
            return DnsParseStatus::ok;
    }
}

}  // namespace

DnsParseStatus render_rdata(std::span<const uint8_t> message, size_t offset, uint16_t length, uint16_t type,
                            std::string& out) {
    out.clear();
    if (offset > message.size() || message.size() - offset < length)
        return DnsParseStatus::truncated;
    // One allocation for most records; an A fits the small-string buffer.
    if (type != rr::a)
        out.reserve(2 * size_t{length} + 24);
    RdataReader r{message, offset, offset + length};
    DnsParseStatus status = render_known(r, type, out);
    // Whatever the type, the rdata must be used up exactly.
    if (status == DnsParseStatus::ok && r.pos != r.end)
        status = DnsParseStatus::bad_rdata;
    if (status != DnsParseStatus::ok)
        out.clear();
    return status;
}

}  // namespace dnsvis
