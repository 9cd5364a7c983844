#include "json_line.hpp"

#include <cstdint>
#include <cstring>

namespace dnsvis {

namespace {

constexpr uint64_t ones = 0x0101010101010101ull;
constexpr uint64_t highs = 0x8080808080808080ull;

constexpr uint64_t has_zero_byte(uint64_t v) { return (v - ones) & ~v & highs; }
constexpr uint64_t has_byte(uint64_t v, uint8_t b) { return has_zero_byte(v ^ (ones * b)); }
constexpr uint64_t has_byte_below(uint64_t v, uint8_t n) { return (v - ones * n) & ~v & highs; }

// Whether any of the eight bytes is a control byte, '"', '\\' or DEL.
constexpr bool needs_escape(uint64_t v) {
    return (has_byte_below(v, 0x20) | has_byte(v, '"') | has_byte(v, '\\') | has_byte(v, 0x7f)) != 0;
}

static_assert(!needs_escape(0x6867666564636261ull));  // "abcdefgh"
static_assert(needs_escape(0x6867666564632261ull));   // a quote among them
static_assert(needs_escape(0x686766650a636261ull));   // a newline
static_assert(!needs_escape(0xc3a9c3a9c3a9c3a9ull));  // UTF-8 passes through

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    // Copy runs of plain bytes at once; this is the hottest loop of the JSON
    // output, and almost every byte is plain.
    size_t run_start = 0;
    size_t i = 0;
    // Eight bytes at a time while none of them needs escaping.
    for (; i + 8 <= text.size(); i += 8) {
        uint64_t word;
        std::memcpy(&word, text.data() + i, 8);
        if (needs_escape(word))
            break;
    }
    for (; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte != '"' && byte != '\\' && byte != 0x7f)
            continue;  // bytes >= 0x80 pass through: names are escaped by the parser (\DDD)
        out.append(text.data() + run_start, i - run_start);
        run_start = i + 1;
        switch (byte) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            out += "\\u00";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        }
    }
    out.append(text.data() + run_start, text.size() - run_start);
    out += '"';
}

void append_json_line(std::string& out, const FieldList& fields) {
    out += '{';
    bool first = true;
    for (const Field& field : fields) {
        if (!first)
            out += ',';
        first = false;
        append_json_string(out, field.name);
        out += ':';
        append_json_string(out, field.value);
    }
    out += "}\n";
}

}  // namespace dnsvis
