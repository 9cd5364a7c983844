#include "dns_wire_name.hpp"

namespace dnsvis {

namespace {

// Worst case: 253 label bytes (255 minus one length octet and the root),
// each escaped as \DDD, plus the dots between labels.
constexpr size_t max_presentation_length = 4 * max_wire_name_length + 8;

constexpr uint8_t pointer_bits = 0xc0;

char* put_label_byte(char* p, uint8_t b) {
    if (b >= 'A' && b <= 'Z') {
        *p++ = static_cast<char>(b + ('a' - 'A'));
    } else if (b == '.' || b == '\\') {
        *p++ = '\\';
        *p++ = static_cast<char>(b);
    } else if (b < 0x21 || b > 0x7e) {
        *p++ = '\\';
        *p++ = static_cast<char>('0' + b / 100);
        *p++ = static_cast<char>('0' + (b / 10) % 10);
        *p++ = static_cast<char>('0' + b % 10);
    } else {
        *p++ = static_cast<char>(b);
    }
    return p;
}

}  // namespace

DnsParseStatus append_wire_name(std::span<const uint8_t> message, size_t offset, std::string& out, size_t& end) {
    // Built on the stack and appended once, so a failed read leaves `out`
    // alone and a good one costs at most one allocation.
    char buffer[max_presentation_length];
    char* p = buffer;

    const size_t size = message.size();
    size_t pos = offset;
    size_t limit = offset;   // pointers must land strictly below this
    size_t wire_length = 1;  // the root label
    size_t in_place_end = 0;
    bool jumped = false;

    for (;;) {
        if (pos >= size)
            return DnsParseStatus::truncated;
        const uint8_t len = message[pos];
        const uint8_t kind = len & pointer_bits;

        if (kind == pointer_bits) {
            if (pos + 1 >= size)
                return DnsParseStatus::truncated;
            const size_t target = (static_cast<size_t>(len & 0x3f) << 8) | message[pos + 1];
            if (target >= limit)
                return DnsParseStatus::bad_pointer;
            if (!jumped) {
                in_place_end = pos + 2;
                jumped = true;
            }
            pos = target;
            limit = target;
            continue;
        }
        if (kind != 0)
            return DnsParseStatus::bad_label_type;

        if (len == 0) {
            if (p == buffer)
                *p++ = '.';
            out.append(buffer, static_cast<size_t>(p - buffer));
            end = jumped ? in_place_end : pos + 1;
            return DnsParseStatus::ok;
        }

        // `len` is at most 63 here: 0x40 and above carry a label type.
        wire_length += 1 + size_t{len};
        if (wire_length > max_wire_name_length)
            return DnsParseStatus::name_too_long;
        if (size - pos - 1 < len)
            return DnsParseStatus::truncated;

        if (p != buffer)
            *p++ = '.';
        const uint8_t* label = message.data() + pos + 1;
        for (size_t i = 0; i < len; ++i)
            p = put_label_byte(p, label[i]);
        pos += 1 + size_t{len};
    }
}

}  // namespace dnsvis
