#include "json_line.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <cstring>

#include "utf8_text.hpp"

namespace dnsvis {

namespace {

constexpr uint64_t ones = 0x0101010101010101ull;
constexpr uint64_t highs = 0x8080808080808080ull;

// Whether any of the eight bytes is a control byte, '"', '\\' or DEL, or
// 0x80 and above (which must be checked to be UTF-8).
// Flipping bit 1 moves '"' (0x22) to 0x20 and keeps the control bytes
// below 0x20 while 0x20 and 0x21 go above, so one comparison finds both.
// The three tests share their "& ~v & highs": the constants are below 0x80,
// so xoring them in leaves the high bit of each byte alone.
constexpr bool needs_escape(uint64_t v) {
    const uint64_t low_or_quote = (v ^ (ones * 0x02)) - ones * 0x21;
    const uint64_t backslash = (v ^ (ones * '\\')) - ones;
    const uint64_t del = (v ^ (ones * 0x7f)) - ones;
    return (((low_or_quote | backslash | del) & ~v) | v) & highs;
}

static_assert(!needs_escape(0x6867666564636261ull));  // "abcdefgh"
static_assert(needs_escape(0x6867666564632261ull));   // a quote among them
static_assert(needs_escape(0x686766650a636261ull));   // a newline
static_assert(needs_escape(0xc3a9c3a9c3a9c3a9ull));   // UTF-8 is looked at
static_assert(needs_escape(0x68676665646362ffull));   // so is any byte above 0x7f
static_assert(!needs_escape(0x2323212120202323ull));  // "##!!  ##"
static_assert(needs_escape(0x2323212122202323ull));   // a quote among its neighbours
static_assert(needs_escape(0x232321211f202323ull));   // 0x1f among them
static_assert(needs_escape(0x232321215c202323ull));   // a backslash
static_assert(needs_escape(0x232321217f202323ull));   // DEL

// The longest escape of one byte: \u00XX.
constexpr size_t max_escape_length = 6;
// write_string() stores whole eight-byte words, up to seven bytes past the
// end of what it keeps.
constexpr size_t store_slack = 8;

size_t string_bound(std::string_view text) {
    return 2 + max_escape_length * text.size() + store_slack;
}

// An ASCII byte as JSON wants it.
char* put_ascii(char* p, unsigned char byte) {
    static constexpr char hex[] = "0123456789abcdef";
    if (byte >= 0x20 && byte != '"' && byte != '\\' && byte != 0x7f) {
        *p++ = static_cast<char>(byte);
        return p;
    }
    *p++ = '\\';
    switch (byte) {
    case '"': *p++ = '"'; break;
    case '\\': *p++ = '\\'; break;
    case '\n': *p++ = 'n'; break;
    case '\t': *p++ = 't'; break;
    case '\r': *p++ = 'r'; break;
    default:
        std::memcpy(p, "u00", 3);
        p[3] = hex[byte >> 4];
        p[4] = hex[byte & 0xf];
        p += 5;
    }
    return p;
}

// The character at s[i], and moves i past it: ASCII as JSON wants it, a
// UTF-8 sequence as it is, and any other byte as \xNN (utf8_text.hpp), its
// backslash escaped. DNS names never get here with such a byte (the parser
// writes \DDD); a process's name or path may.
char* put_char(char* p, const char* s, size_t n, size_t& i) {
    const auto byte = static_cast<unsigned char>(s[i]);
    if (byte < 0x80) {
        ++i;
        return put_ascii(p, byte);
    }
    if (const size_t length = utf8_sequence_length({s + i, n - i}); length > 0) {
        std::memcpy(p, s + i, length);
        i += length;
        return p + length;
    }
    *p++ = '\\';
    ++i;
    return put_hex_escape(p, byte);
}

uint64_t load16(const char* s) {
    uint16_t v;
    std::memcpy(&v, s, 2);
    return v;
}

uint64_t load32(const char* s) {
    uint32_t v;
    std::memcpy(&v, s, 4);
    return v;
}

// The `rest` (1 to 7) bytes at `s` in the low bytes of a word, the others
// zero. Two overlapping fixed-size loads instead of a memcpy of variable
// length: that one is a library call, and reading the word back from
// memory right after it stalls on store forwarding.
uint64_t load_tail(const char* s, size_t rest) {
    if (rest >= 4)
        return load32(s) | (load32(s + rest - 4) << (8 * (rest - 4)));
    if (rest >= 2)
        return load16(s) | (load16(s + rest - 2) << (8 * (rest - 2)));
    return static_cast<unsigned char>(*s);
}

// The hottest loop of the JSON output. Almost every byte is plain, so bytes
// are moved eight at a time and only a word that holds a special byte is
// looked at byte by byte. Needs string_bound(text) bytes at `p`.
// Inlined into the field writer: it runs for every field, and the call and
// the constants it sets up cost more than its work on a short value.
[[gnu::always_inline]] inline char* write_string(char* p, std::string_view text) {
    const char* s = text.data();
    const size_t n = text.size();
    *p++ = '"';
    size_t i = 0;
    while (i + 8 <= n) {
        uint64_t word;
        std::memcpy(&word, s + i, 8);
        if (!needs_escape(word)) {
            std::memcpy(p, &word, 8);
            p += 8;
            i += 8;
            continue;
        }
        // A UTF-8 sequence may reach past the word; the next word starts
        // after it.
        for (const size_t word_end = i + 8; i < word_end;)
            p = put_char(p, s, n, i);
    }
    if (i < n) {
        // The last one to seven bytes, padded with a plain byte to a word:
        // stored whole when plain, the slack takes the padding.
        const size_t rest = n - i;
        const uint64_t word = load_tail(s + i, rest) | ((ones * 'a') << (8 * rest));
        // The word holds the bytes in string order on little-endian
        // machines only; elsewhere the tail goes byte by byte.
        if (std::endian::native == std::endian::little && !needs_escape(word)) {
            std::memcpy(p, &word, 8);
            p += rest;
        } else {
            while (i < n)
                p = put_char(p, s, n, i);
        }
    }
    *p++ = '"';
    return p;
}

// A field name as a JSON key. Field names are journal field names
// (A-Z, 0-9, '_'), which JSON needs no escape for, so they are copied
// without the scan a value gets: a line has two dozen of them.
// They are copied with two overlapping fixed-size moves: a memcpy of
// variable length is a library call, a tenth of the writer's time.
[[gnu::always_inline]] inline char* write_name(char* p, std::string_view name) {
    const char* s = name.data();
    const size_t n = name.size();
    *p++ = '"';
    if (n >= 16) {
        for (size_t at = 0; at + 16 < n; at += 16)
            std::memcpy(p + at, s + at, 16);
        std::memcpy(p + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        std::memcpy(p, s, 8);
        std::memcpy(p + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        std::memcpy(p, s, 4);
        std::memcpy(p + n - 4, s + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; ++i)
            p[i] = s[i];
    }
    p += n;
    *p++ = '"';
    return p;
}

[[maybe_unused]] bool is_journal_field_name(std::string_view name) {
    if (name.empty())
        return false;
    for (char c : name) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    const size_t start = out.size();
    out.resize(start + string_bound(text));
    char* end = write_string(out.data() + start, text);
    out.resize(static_cast<size_t>(end - out.data()));
}

void JsonLineWriter::grow(size_t room) {
    buffer_.resize(std::max(2 * buffer_.size(), used_ + room));
}

void JsonLineWriter::keep(size_t offset, size_t count) {
    assert(offset + count <= used_);
    std::memmove(buffer_.data(), buffer_.data() + offset, count);
    used_ = count;
}

void JsonLineWriter::begin_line() {
    *reserve(1) = '{';
    ++used_;
    first_field_ = true;
}

void JsonLineWriter::add(std::string_view name, std::string_view value) {
    // Checked once per field, in debug builds only: the writer relies on it.
    assert(is_journal_field_name(name));
    // The comma, the key's quotes and the colon, then the value at its worst.
    char* const start = reserve(1 + name.size() + 3 + string_bound(value));
    char* p = start;
    if (!first_field_)
        *p++ = ',';
    first_field_ = false;
    p = write_name(p, name);
    *p++ = ':';
    p = write_string(p, value);
    used_ += static_cast<size_t>(p - start);
}

void JsonLineWriter::add_block(const FieldBlock& block) {
    // Each field with a comma before it; the first of a line drops its comma.
    const std::string& rendered = block.rendered(BlockFormat::json_line, [](const FieldList& fields, std::string& out) {
        for (const Field& field : fields) {
            assert(is_journal_field_name(field.name));
            out += ",\"";
            out += field.name;
            out += "\":";
            append_json_string(out, field.value);
        }
    });
    if (rendered.empty())
        return;
    const std::string_view text = first_field_ ? std::string_view(rendered).substr(1) : std::string_view(rendered);
    std::memcpy(reserve(text.size()), text.data(), text.size());
    used_ += text.size();
    first_field_ = false;
}

void JsonLineWriter::end_line() {
    char* p = reserve(2);
    p[0] = '}';
    p[1] = '\n';
    used_ += 2;
}

void append_json_line(std::string& out, const FieldList& fields) {
    JsonLineWriter line;
    line.begin_line();
    fields.write_to(line);
    line.end_line();
    out += line.text();
}

}  // namespace dnsvis
