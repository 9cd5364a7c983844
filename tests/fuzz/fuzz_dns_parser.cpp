// libFuzzer target for the DNS parser (at both depths) and the rdata renderer.
//
// Besides "no crash, no sanitizer report", it checks the promises the rest of
// the daemon relies on, and aborts when one is broken.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "dns_message.hpp"
#include "dns_names.hpp"
#include "dns_parser.hpp"
#include "dns_rdata.hpp"
#include "fuzz_require.hpp"

using namespace dnsvis;
using dnsvis::fuzz::require;

namespace {

// A presentation-form name: "." or non-empty labels joined by single dots,
// printable ASCII only, no upper case; at most 253 characters unless it
// carries escapes (which stand for up to four characters per byte).
void check_name(const std::string& name) {
    require(!name.empty());
    if (name == ".")
        return;
    bool escaped = false;
    bool label_start = true;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        require(c > 0x20 && c < 0x7f);
        require(!(c >= 'A' && c <= 'Z'));
        if (c == '\\') {
            escaped = true;
            require(i + 1 < name.size());
            const char next = name[i + 1];
            if (next >= '0' && next <= '9') {
                require(i + 3 < name.size());
                const int value = (next - '0') * 100 + (name[i + 2] - '0') * 10 + (name[i + 3] - '0');
                require(value <= 255);
                i += 3;
            } else {
                require(next == '.' || next == '\\');
                i += 1;
            }
            label_start = false;
            continue;
        }
        if (c == '.') {
            require(!label_start);  // no empty label, no leading dot
            label_start = true;
            continue;
        }
        label_start = false;
    }
    require(!label_start);  // no trailing dot
    if (!escaped)
        require(name.size() <= 253);
}

void check_sections(const DnsMessage& m, DnsParseStatus status) {
    require(m.questions.size() <= m.question_count);
    require(m.answers.size() <= m.answer_count);
    require(m.authority.size() <= m.authority_count);
    require(m.additional.size() + (m.edns ? 1u : 0u) <= m.additional_count);
    if (status == DnsParseStatus::ok) {
        require(m.questions.size() == m.question_count);
        require(m.answers.size() == m.answer_count);
        require(m.authority.size() == m.authority_count);
        // Extra OPT records are dropped too, so only without EDNS is it exact.
        if (!m.edns)
            require(m.additional.size() == m.additional_count);
    } else {
        // Sections are filled in order: a later one only once the earlier is complete.
        if (!m.answers.empty())
            require(m.questions.size() == m.question_count);
        if (!m.authority.empty())
            require(m.answers.size() == m.answer_count);
        if (!m.additional.empty() || m.edns)
            require(m.authority.size() == m.authority_count);
    }
    for (const auto& q : m.questions) {
        check_name(q.name);
        require(!dns_type_name(q.type).empty() && !dns_class_name(q.klass).empty());
    }
    for (const auto* section : {&m.answers, &m.authority, &m.additional}) {
        for (const auto& r : *section) {
            check_name(r.name);
            require(!r.data.empty());
            // CNAME, NS and PTR rdata is exactly one name.
            if (r.klass == 1 && (r.type == 2 || r.type == 5 || r.type == 12))
                check_name(r.data);
        }
    }
    for (const auto& r : m.additional)
        require(r.type != 41);
}

bool same(const DnsMessage& a, const DnsMessage& b) {
    auto same_records = [](const std::vector<DnsRecord>& x, const std::vector<DnsRecord>& y) {
        if (x.size() != y.size())
            return false;
        for (size_t i = 0; i < x.size(); ++i) {
            if (x[i].name != y[i].name || x[i].type != y[i].type || x[i].klass != y[i].klass || x[i].ttl != y[i].ttl ||
                x[i].data != y[i].data)
                return false;
        }
        return true;
    };
    if (a.id != b.id || a.flags != b.flags || a.question_count != b.question_count ||
        a.answer_count != b.answer_count || a.authority_count != b.authority_count ||
        a.additional_count != b.additional_count || a.questions.size() != b.questions.size() ||
        a.edns.has_value() != b.edns.has_value() || a.rcode() != b.rcode())
        return false;
    for (size_t i = 0; i < a.questions.size(); ++i) {
        if (a.questions[i].name != b.questions[i].name || a.questions[i].type != b.questions[i].type ||
            a.questions[i].klass != b.questions[i].klass)
            return false;
    }
    return same_records(a.answers, b.answers) && same_records(a.authority, b.authority) &&
           same_records(a.additional, b.additional);
}

bool same_edns(const DnsMessage& a, const DnsMessage& b) {
    if (a.edns.has_value() != b.edns.has_value())
        return false;
    return !a.edns ||
           (a.edns->udp_payload_size == b.edns->udp_payload_size && a.edns->extended_rcode == b.edns->extended_rcode &&
            a.edns->version == b.edns->version && a.edns->dnssec_ok == b.edns->dnssec_ok);
}

// The reported depth keeps of a message exactly what the full parse gives of
// the parts dnsvisd reports, and nothing else.
void check_reported(const DnsMessage& full, DnsParseStatus full_status, const DnsMessage& reported,
                    DnsParseStatus reported_status) {
    // Questions and answers are read alike at both depths (bar the questions
    // after the first and the answers' owner names, checked but not
    // rendered), so they agree, up to where the full parse ran out of text
    // budget: the reported one renders less and may have gone further.
    const bool full_over_budget = full_status == DnsParseStatus::over_text_budget;
    require(reported.id == full.id && reported.flags == full.flags);
    require(reported.question_count == full.question_count && reported.answer_count == full.answer_count &&
            reported.authority_count == full.authority_count && reported.additional_count == full.additional_count);
    // One name never exceeds the budget, so the first question is never
    // what the full parse stops at for want of it.
    require(reported.questions.size() == std::min<size_t>(full.questions.size(), 1));
    for (size_t i = 0; i < reported.questions.size(); ++i) {
        require(reported.questions[i].name == full.questions[i].name);
        require(reported.questions[i].type == full.questions[i].type);
        require(reported.questions[i].klass == full.questions[i].klass);
    }
    if (full_over_budget)
        require(reported.answers.size() >= full.answers.size());
    else
        require(reported.answers.size() == full.answers.size());
    for (size_t i = 0; i < full.answers.size(); ++i) {
        const DnsRecord& r = reported.answers[i];
        const DnsRecord& f = full.answers[i];
        require(r.name.empty());
        require(r.type == f.type && r.klass == f.klass && r.ttl == f.ttl && r.data == f.data);
    }
    require(reported.authority.empty() && reported.additional.empty());

    // At every record the reported depth has rendered no more text than the
    // full one, so its budget cannot run out first. Where the full one's
    // did, the reported parse went on to anything; an OPT record the full
    // parse read came before, and the reported parse read it too.
    if (full_over_budget) {
        if (full.edns)
            require(same_edns(reported, full));
        return;
    }
    require(reported_status != DnsParseStatus::over_text_budget);

    // Past the answers, the reported depth does not render rdata. Where the
    // full parse stopped there (a failing question or record is never kept,
    // so all of them being kept means it was further on) with an
    // error rendering can give, it may have been rendering that failed; the
    // reported parse then went on: to success, or to a later error found
    // without rendering (so never bad_rdata), having perhaps found an OPT
    // record the full parse never reached. Or it was the record's owner name
    // or bounds, and the reported parse stopped there too, alike.
    const bool may_be_unrendered =
        full.questions.size() == full.question_count && full.answers.size() == full.answer_count &&
        (full_status == DnsParseStatus::bad_rdata || full_status == DnsParseStatus::bad_pointer ||
         full_status == DnsParseStatus::bad_label_type || full_status == DnsParseStatus::name_too_long);
    if (may_be_unrendered) {
        require(reported_status != DnsParseStatus::bad_rdata);
        if (full.edns)
            require(same_edns(reported, full));
        return;
    }
    // Anywhere else both depths stop at the same record for the same reason:
    // an ok full parse is an ok reported one, a failed reported parse is the
    // full parse's failure.
    require(reported_status == full_status);
    require(same_edns(reported, full));
    require(reported.rcode() == full.rcode());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> wire(data, size);

    DnsMessage fresh;
    const DnsParseStatus status = parse_dns_message(wire, fresh);
    require(!to_string(status).empty());
    if (status == DnsParseStatus::too_short) {
        require(size < 12);
        require(fresh.id == 0 && fresh.flags == 0 && fresh.questions.empty());
    } else {
        require(size >= 12);
        require(fresh.id == ((data[0] << 8) | data[1]));
        require(fresh.flags == ((data[2] << 8) | data[3]));
    }
    check_sections(fresh, status);
    require(fresh.rendered_text_size() <= dns_text_budget(size));
    require(!dns_rcode_name(fresh.rcode()).empty());
    require(dns_flags_string(fresh.flags).size() <= 17);  // "aa tc rd ra ad cd"

    // A message object reused across inputs (as the daemon does) must give
    // exactly what a fresh one gives.
    static DnsMessage reused;
    require(parse_dns_message(wire, reused) == status);
    require(same(fresh, reused));

    // The depth dnsvisd parses at, fresh and into the same reused object,
    // which therefore also goes from one depth to the other between inputs.
    DnsMessage reported;
    const DnsParseStatus reported_status = parse_dns_message(wire, reported, DnsParseDepth::reported);
    check_reported(fresh, status, reported, reported_status);
    require(reported.rendered_text_size() <= dns_text_budget(size));
    require(parse_dns_message(wire, reused, DnsParseDepth::reported) == reported_status);
    require(same(reported, reused));

    // Every renderer over the bytes after the header, as rdata: most inputs
    // are not valid for most types, which is the point.
    if (size >= 12) {
        const size_t length = std::min<size_t>(size - 12, 0xffff);
        static constexpr uint16_t types[] = {1, 2, 5, 6, 12, 15, 16, 28, 33, 64, 65, 0};
        std::string out;
        for (uint16_t type : types) {
            const DnsParseStatus s = render_rdata(wire, 12, static_cast<uint16_t>(length), type, out);
            require(s == DnsParseStatus::ok ? !out.empty() : out.empty());
            require(s != DnsParseStatus::truncated && s != DnsParseStatus::too_short);
        }
        // The RFC 3597 form is total and exact.
        require(out.size() == 3 + std::to_string(length).size() + (length == 0 ? 0 : 1 + 2 * length));
    }
    return 0;
}
