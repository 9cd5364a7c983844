#include "dns_parser.hpp"

#include <algorithm>

#include "dns_rdata.hpp"
#include "dns_wire_name.hpp"

namespace dnsvis {

namespace {

constexpr size_t header_length = 12;
constexpr size_t min_question_length = 5;  // root name, type, class
constexpr size_t question_fixed_length = 4;
constexpr size_t min_record_length = 11;   // root name, type, class, ttl, rdlength
constexpr size_t record_fixed_length = 10;

constexpr uint16_t type_opt = 41;
constexpr uint16_t class_in = 1;
constexpr uint16_t class_none = 254;
constexpr uint16_t class_any = 255;
// Type 0 is reserved and has no presentation form of its own, so asking the
// renderer for it yields the RFC 3597 form of any rdata.
constexpr uint16_t type_opaque = 0;

uint16_t read_u16(std::span<const uint8_t> wire, size_t pos) {
    return static_cast<uint16_t>((wire[pos] << 8) | wire[pos + 1]);
}

uint32_t read_u32(std::span<const uint8_t> wire, size_t pos) {
    return (uint32_t{wire[pos]} << 24) | (uint32_t{wire[pos + 1]} << 16) | (uint32_t{wire[pos + 2]} << 8) |
           uint32_t{wire[pos + 3]};
}

// The rendered form follows the type only where the type's format is known
// for the class. A, AAAA, SRV, SVCB and HTTPS are defined for IN alone (A in
// CH is a Chaosnet address), and UPDATE messages use classes NONE and ANY
// with empty or partial rdata; all of those are shown opaquely.
uint16_t render_type(uint16_t type, uint16_t klass) {
    if (klass == class_none || klass == class_any)
        return type_opaque;
    if (klass == class_in)
        return type;
    switch (type) {
        case 1:   // A
        case 28:  // AAAA
        case 33:  // SRV
        case 64:  // SVCB
        case 65:  // HTTPS
            return type_opaque;
        default:
            return type;
    }
}

// The header counts come from the wire: reserve no more than the bytes left
// could possibly hold, so a forged count cannot make us allocate megabytes.
size_t plausible(uint16_t count, size_t bytes_left, size_t min_length) {
    return std::min<size_t>(count, bytes_left / min_length);
}

// The fixed part of a record, after its owner name.
struct RecordFields {
    uint16_t type = 0;
    uint16_t klass = 0;
    uint32_t ttl = 0;
    size_t rdata = 0;  // offset of the rdata in the message
    uint16_t rdlength = 0;
};

class Parser {
public:
    Parser(std::span<const uint8_t> wire, DnsMessage& out, DnsParseDepth depth)
        : wire_(wire),
          out_(out),
          owner_names_(depth == DnsParseDepth::full),
          every_question_(depth == DnsParseDepth::full),
          text_left_(dns_text_budget(wire.size())) {}

    // Reads the questions: all kept at full depth, else only the first, the
    // others checked alike but not rendered.
    DnsParseStatus questions(uint16_t count) {
        const uint16_t kept = every_question_ ? count : std::min<uint16_t>(count, 1);
        out_.questions.reserve(plausible(kept, left(), min_question_length));
        for (uint16_t i = 0; i < count; ++i) {
            if (DnsParseStatus s = i < kept ? question() : skip_question(); s != DnsParseStatus::ok)
                return s;
        }
        return DnsParseStatus::ok;
    }

    // Appends the records to `into` with their rdata rendered; owner names
    // are rendered too at full depth, else only checked and left empty.
    DnsParseStatus records(uint16_t count, std::vector<DnsRecord>& into, bool additional) {
        into.reserve(plausible(count, left(), min_record_length));
        for (uint16_t i = 0; i < count; ++i) {
            DnsRecord& rec = into.emplace_back();
            DnsParseStatus status = record(rec, additional);
            if (status != DnsParseStatus::ok || drop_)
                into.pop_back();
            if (status != DnsParseStatus::ok)
                return status;
        }
        return DnsParseStatus::ok;
    }

    // Steps over the records, checking their structure but neither
    // rendering nor keeping them; only the OPT record is still read.
    DnsParseStatus skip_records(uint16_t count, bool additional) {
        for (uint16_t i = 0; i < count; ++i) {
            size_t next = 0;
            if (DnsParseStatus s = skip_wire_name(wire_, pos_, next); s != DnsParseStatus::ok)
                return s;
            RecordFields f;
            if (DnsParseStatus s = fields(next, f); s != DnsParseStatus::ok)
                return s;
            if (additional && f.type == type_opt)
                read_opt(f);
            pos_ = f.rdata + f.rdlength;
        }
        return DnsParseStatus::ok;
    }

private:
    size_t left() const { return wire_.size() - pos_; }

    // Takes `length` characters of rendered text from the budget, or fails
    // (taking nothing) when fewer are left.
    DnsParseStatus spend_text(size_t length) {
        if (length > text_left_)
            return DnsParseStatus::over_text_budget;
        text_left_ -= length;
        return DnsParseStatus::ok;
    }

    DnsParseStatus question() {
        DnsQuestion& q = out_.questions.emplace_back();
        size_t next = 0;
        DnsParseStatus status = append_wire_name(wire_, pos_, q.name, next);
        if (status == DnsParseStatus::ok && wire_.size() - next < question_fixed_length)
            status = DnsParseStatus::truncated;
        if (status == DnsParseStatus::ok)
            status = spend_text(q.name.size());
        if (status != DnsParseStatus::ok) {
            out_.questions.pop_back();
            return status;
        }
        q.type = read_u16(wire_, next);
        q.klass = read_u16(wire_, next + 2);
        pos_ = next + question_fixed_length;
        return DnsParseStatus::ok;
    }

    // Fails where question() fails, with the same status, except for the
    // text budget: nothing is rendered here.
    DnsParseStatus skip_question() {
        size_t next = 0;
        if (DnsParseStatus s = skip_wire_name(wire_, pos_, next); s != DnsParseStatus::ok)
            return s;
        if (wire_.size() - next < question_fixed_length)
            return DnsParseStatus::truncated;
        pos_ = next + question_fixed_length;
        return DnsParseStatus::ok;
    }

    // Reads the fixed part of the record whose owner name ends at `next`,
    // and checks that its rdata is within the message.
    DnsParseStatus fields(size_t next, RecordFields& f) const {
        if (wire_.size() - next < record_fixed_length)
            return DnsParseStatus::truncated;
        f.type = read_u16(wire_, next);
        f.klass = read_u16(wire_, next + 2);
        f.ttl = read_u32(wire_, next + 4);
        f.rdlength = read_u16(wire_, next + 8);
        f.rdata = next + record_fixed_length;
        if (wire_.size() - f.rdata < f.rdlength)
            return DnsParseStatus::truncated;
        return DnsParseStatus::ok;
    }

    // RFC 6891 allows one OPT; a second one is ignored rather than allowed
    // to overwrite what the first said.
    void read_opt(const RecordFields& f) {
        if (out_.edns)
            return;
        EdnsInfo& edns = out_.edns.emplace();
        edns.udp_payload_size = f.klass;
        edns.extended_rcode = static_cast<uint8_t>(f.ttl >> 24);
        edns.version = static_cast<uint8_t>(f.ttl >> 16);
        edns.dnssec_ok = (f.ttl & 0x8000) != 0;
    }

    DnsParseStatus record(DnsRecord& rec, bool additional) {
        drop_ = false;
        size_t next = 0;
        if (DnsParseStatus s =
                owner_names_ ? append_wire_name(wire_, pos_, rec.name, next) : skip_wire_name(wire_, pos_, next);
            s != DnsParseStatus::ok)
            return s;
        RecordFields f;
        if (DnsParseStatus s = fields(next, f); s != DnsParseStatus::ok)
            return s;
        rec.type = f.type;
        rec.klass = f.klass;
        rec.ttl = f.ttl;

        const bool opt = additional && f.type == type_opt;
        if (!opt) {
            if (DnsParseStatus s = render_rdata(wire_, f.rdata, f.rdlength, render_type(f.type, f.klass), rec.data);
                s != DnsParseStatus::ok)
                return s;
        }
        // Charged once the record is complete: one check covers its name and
        // rdata, and a record that failed is dropped whatever it cost. The
        // OPT record's owner name counts too: it was rendered, if not kept.
        if (DnsParseStatus s = spend_text(rec.name.size() + rec.data.size()); s != DnsParseStatus::ok)
            return s;
        if (opt) {
            read_opt(f);
            drop_ = true;
        }
        pos_ = f.rdata + f.rdlength;
        return DnsParseStatus::ok;
    }

    std::span<const uint8_t> wire_;
    DnsMessage& out_;
    const bool owner_names_;     // render the owner names of the records kept
    const bool every_question_;  // keep every question, not only the first
    // What is left of dns_text_budget(): one budget for the whole parse, as
    // a compression bomb may spread its reuse of a long name over every
    // section and over names and rdata alike.
    size_t text_left_;
    size_t pos_ = header_length;
    bool drop_ = false;  // the record just read is the OPT pseudo-record
};

}  // namespace

std::string_view to_string(DnsParseStatus status) {
    switch (status) {
        case DnsParseStatus::ok:
            return "ok";
        case DnsParseStatus::too_short:
            return "too-short";
        case DnsParseStatus::truncated:
            return "truncated";
        case DnsParseStatus::label_too_long:
            return "label-too-long";
        case DnsParseStatus::name_too_long:
            return "name-too-long";
        case DnsParseStatus::bad_pointer:
            return "bad-pointer";
        case DnsParseStatus::bad_label_type:
            return "bad-label-type";
        case DnsParseStatus::bad_rdata:
            return "bad-rdata";
        case DnsParseStatus::over_text_budget:
            return "over-text-budget";
        case DnsParseStatus::trailing_garbage:
            return "trailing-garbage";
    }
    return "unknown";
}

DnsParseStatus parse_dns_message(std::span<const uint8_t> wire, DnsMessage& out, DnsParseDepth depth) {
    out.clear();
    if (wire.size() < header_length)
        return DnsParseStatus::too_short;
    out.id = read_u16(wire, 0);
    out.flags = read_u16(wire, 2);
    out.question_count = read_u16(wire, 4);
    out.answer_count = read_u16(wire, 6);
    out.authority_count = read_u16(wire, 8);
    out.additional_count = read_u16(wire, 10);

    Parser parser(wire, out, depth);
    if (DnsParseStatus s = parser.questions(out.question_count); s != DnsParseStatus::ok)
        return s;
    if (DnsParseStatus s = parser.records(out.answer_count, out.answers, false); s != DnsParseStatus::ok)
        return s;
    // Bytes after the last record are tolerated (some middleboxes pad).
    if (depth == DnsParseDepth::reported) {
        // Nothing in these two sections is reported but the OPT record.
        if (DnsParseStatus s = parser.skip_records(out.authority_count, false); s != DnsParseStatus::ok)
            return s;
        return parser.skip_records(out.additional_count, true);
    }
    if (DnsParseStatus s = parser.records(out.authority_count, out.authority, false); s != DnsParseStatus::ok)
        return s;
    return parser.records(out.additional_count, out.additional, true);
}

}  // namespace dnsvis
