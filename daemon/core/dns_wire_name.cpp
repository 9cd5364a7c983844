#include "dns_wire_name.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

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

constexpr uint64_t ones = 0x0101010101010101ull;
constexpr uint64_t highs = 0x8080808080808080ull;

constexpr uint64_t zero_bytes(uint64_t v) { return (v - ones) & ~v & highs; }

// The high bit of each byte of `v` that put_label_byte() does not copy
// unchanged apart from case: outside 0x21..0x7e, '.' or '\\'. A byte may be
// flagged wrongly only above a byte flagged rightly (a borrow or carry runs
// upwards), so "any flag among the low n bytes" is exact.
constexpr uint64_t special_bytes(uint64_t v) {
    const uint64_t below = (v - ones * 0x21) & ~v;
    const uint64_t above = (v + ones * (0x7f - 0x7e)) | v;
    return ((below | above) & highs) | zero_bytes(v ^ (ones * '.')) | zero_bytes(v ^ (ones * '\\'));
}

// For bytes in 0x21..0x7e: 0x20 in each byte that is 'A'..'Z', so that
// or-ing it in folds the case. Nothing carries between such bytes.
constexpr uint64_t upper_case_bits(uint64_t v) {
    return (((v + ones * (0x80 - 'A')) ^ (v + ones * (0x80 - 'Z' - 1))) & highs) >> 2;
}

static_assert(special_bytes(0x6867666564636261ull) == 0);  // "abcdefgh"
static_assert(special_bytes(0x68676665642e6261ull) != 0);  // a dot
static_assert(special_bytes(0x6867666564206261ull) != 0);  // a space
static_assert(special_bytes(0x68676665647f6261ull) != 0);  // DEL
static_assert(upper_case_bits(0x5b5a41407a61ull) == 0x2020000000ull);  // "az@AZ["

// Copies a label of `len` bytes, eight at a time while its bytes need no
// escape; `readable` is how many bytes of the message may be read from
// `label`, which may be more than the label. Stores whole words: `p` needs
// seven bytes of room beyond the output.
char* put_label(char* p, const uint8_t* label, size_t len, size_t readable) {
    size_t i = 0;
    // Words hold the bytes in string order on little-endian machines only.
    if constexpr (std::endian::native == std::endian::little) {
        while (i < len && readable - i >= 8) {
            uint64_t v;
            std::memcpy(&v, label + i, 8);
            const size_t chunk = std::min<size_t>(len - i, 8);
            const uint64_t in_label = chunk == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * chunk)) - 1;
            if ((special_bytes(v) & in_label) != 0)
                break;
            v |= upper_case_bits(v);
            std::memcpy(p, &v, 8);
            p += chunk;
            i += chunk;
        }
    }
    for (; i < len; ++i)
        p = put_label_byte(p, label[i]);
    return p;
}

// Walks the name starting at `offset` of `message`, checking every rule of
// the wire format. Each label goes to `sink.label(bytes, length, readable)`
// in order, where `readable` is how many bytes of the message may be read
// from `bytes`; once the whole name has been read, `sink.finish()` is called
// and `end` is set as append_wire_name() says. On error neither happens.
//
// One loop for every reader of names, so the rules cannot drift apart; a
// template so that each reader gets it with its own sink inlined. finish()
// is called here, where the name ends, rather than by the caller after
// testing the status: that way append_wire_name() compiles to the code it had
// when the loop was its own (testing afterwards cost it some six instructions
// a name, 1.5%).
template <typename LabelSink>
DnsParseStatus walk_wire_name(std::span<const uint8_t> message, size_t offset, LabelSink& sink, size_t& end) {
    const size_t size = message.size();
    size_t pos = offset;
    size_t limit = offset;   // pointers must land strictly below this
    size_t wire_length = 1;  // the root label
    size_t in_place_end = 0;
    size_t jumps = 0;

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
            // Counted per jump, not per label, to keep the label loop as it was.
            if (jumps == 0)
                in_place_end = pos + 2;
            if (++jumps > max_pointer_jumps)
                return DnsParseStatus::bad_pointer;
            pos = target;
            limit = target;
            continue;
        }
        if (kind != 0)
            return DnsParseStatus::bad_label_type;

        if (len == 0) {
            sink.finish();
            end = jumps != 0 ? in_place_end : pos + 1;
            return DnsParseStatus::ok;
        }

        // `len` is at most 63 here: 0x40 and above carry a label type.
        wire_length += 1 + size_t{len};
        if (wire_length > max_wire_name_length)
            return DnsParseStatus::name_too_long;
        if (size - pos - 1 < len)
            return DnsParseStatus::truncated;

        sink.label(message.data() + pos + 1, size_t{len}, size - pos - 1);
        pos += 1 + size_t{len};
    }
}

// Writes the presentation form of the labels it is given into `buffer`, and
// appends it to `out` once the name is complete.
class PresentationWriter {
public:
    PresentationWriter(char* buffer, std::string& out) : buffer_(buffer), p_(buffer), out_(out) {}

    void label(const uint8_t* bytes, size_t length, size_t readable) {
        if (p_ != buffer_)
            *p_++ = '.';
        p_ = put_label(p_, bytes, length, readable);
    }

    void finish() {
        if (p_ == buffer_)
            *p_++ = '.';
        out_.append(buffer_, static_cast<size_t>(p_ - buffer_));
    }

private:
    char* const buffer_;
    char* p_;
    std::string& out_;
};

// For names that are only checked.
struct NoText {
    void label(const uint8_t*, size_t, size_t) {}
    void finish() {}
};

}  // namespace

DnsParseStatus append_wire_name(std::span<const uint8_t> message, size_t offset, std::string& out, size_t& end) {
    // Built on the stack and appended once, so a failed read leaves `out`
    // alone and a good one costs at most one allocation.
    char buffer[max_presentation_length + 8];  // put_label() stores whole words
    PresentationWriter writer(buffer, out);
    return walk_wire_name(message, offset, writer, end);
}

DnsParseStatus skip_wire_name(std::span<const uint8_t> message, size_t offset, size_t& end) {
    NoText none;
    return walk_wire_name(message, offset, none, end);
}

}  // namespace dnsvis
