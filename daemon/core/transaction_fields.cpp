#include "transaction_fields.hpp"

#include <array>
#include <charconv>
#include <cstring>

#include <arpa/inet.h>

#include "dns_names.hpp"

namespace dnsvis {

namespace {

constexpr int priority_info = 6;
constexpr int priority_notice = 5;
constexpr int priority_warning = 4;
// The human line lists this many answers; DNS_ANSWERS has them all.
constexpr size_t message_answer_limit = 3;

// A number's decimal digits in a stack buffer, from where they go straight
// into a value or a field: a temporary std::string per number showed up in
// profiles.
class DecimalText {
public:
    template <typename Number>
    explicit DecimalText(Number n)
        : size_(static_cast<size_t>(std::to_chars(text_, text_ + sizeof text_, n).ptr - text_)) {}
    std::string_view view() const { return {text_, size_}; }

private:
    char text_[24];  // the longest 64-bit number and a sign
    size_t size_;
};

template <typename Number>
void append_number(std::string& out, Number n) {
    out += DecimalText(n).view();
}

template <typename Number>
std::string number(Number n) {
    return std::string(DecimalText(n).view());
}

template <typename Number>
void add_number(FieldWriter& out, std::string_view name, Number n) {
    out.add(name, DecimalText(n).view());
}

// An endpoint as Endpoint::to_string() prints it ("127.0.0.1:53",
// "[::1]:53"), in a stack buffer: each transaction needs both endpoints
// twice (the human line and DNS_SERVER/DNS_CLIENT), and to_string()
// allocates every time.
class EndpointText {
public:
    explicit EndpointText(const Endpoint& e) {
        char* p = text_;
        char* const end = text_ + sizeof text_;
        if (e.ipv6) {
            *p++ = '[';
            if (inet_ntop(AF_INET6, e.address.data(), p, INET6_ADDRSTRLEN))
                p += std::strlen(p);
            else
                *p++ = '?';
            *p++ = ']';
        } else {
            for (int i = 0; i < 4; ++i) {
                if (i > 0)
                    *p++ = '.';
                p = std::to_chars(p, end, e.address[i]).ptr;
            }
        }
        *p++ = ':';
        p = std::to_chars(p, end, e.port).ptr;
        size_ = static_cast<size_t>(p - text_);
    }
    std::string_view view() const { return {text_, size_}; }

private:
    char text_[INET6_ADDRSTRLEN + 8];  // brackets, colon, port
    size_t size_;
};

void append_answers_joined(std::string& joined, const std::vector<DnsRecord>& answers) {
    for (const DnsRecord& record : answers) {
        if (!joined.empty())
            joined += ' ';
        joined += record.data;
    }
}

void append_process_label(std::string& m, const Transaction& t) {
    if (t.owner.pid == 0) {
        m += "unknown-process";
        return;
    }
    if (t.owner.comm.empty())
        m += '?';
    else
        m += t.owner.comm;
    m += '[';
    append_number(m, t.owner.pid);
    m += ']';
}

void append_latency(std::string& text, uint64_t ns) {
    // Integer arithmetic, rounded half up: this runs for every transaction,
    // and printf's floating point showed up in profiles.
    auto fixed = [&text](uint64_t value, uint64_t unit, int decimals, std::string_view suffix) {
        const uint64_t scaled = (value + unit / 2) / unit;  // in units of 10^-decimals
        const uint64_t divisor = decimals == 1 ? 10 : 100;
        append_number(text, scaled / divisor);
        text += '.';
        const uint64_t fraction = scaled % divisor;
        if (decimals == 2 && fraction < 10)
            text += '0';
        append_number(text, fraction);
        text += suffix;
    };
    if (ns < 100'000)  // below 0.1 ms one decimal would round to nothing
        fixed(ns, 10'000, 2, " ms");
    else if (ns < 999'950'000)
        fixed(ns, 100'000, 1, " ms");
    else
        fixed(ns, 10'000'000, 2, " s");
}

// The names and the endpoint on the other side of the socket come already
// formatted: the fields repeat them, and they are worked out once.
struct MessageParts {
    std::string_view type;
    std::string_view rcode;  // with a response only
    std::string_view peer;
};

void append_human_message(std::string& m, const Transaction& t, const MessageParts& parts) {
    append_process_label(m, t);
    m += ' ';
    if (t.question.name.empty())
        m += "(no question)";
    else
        m += t.question.name;
    m += ' ';
    m += parts.type;
    m += " → ";
    if (t.outcome == Outcome::timeout) {
        m += "no response";
        if (t.retransmits > 0) {
            m += " after ";
            append_number(m, t.retransmits + 1);
            m += " tries";
        }
    } else if (t.response) {
        m += parts.rcode;
        const auto& answers = t.response->answers;
        for (size_t i = 0; i < answers.size() && i < message_answer_limit; ++i) {
            m += ' ';
            m += answers[i].data;
        }
        if (answers.size() > message_answer_limit) {
            m += " (+";
            append_number(m, answers.size() - message_answer_limit);
            m += " more)";
        }
        if (auto latency = t.latency_ns()) {
            m += " (";
            append_latency(m, *latency);
            m += ')';
        }
    }
    m += t.side == Side::client ? " via " : " from ";
    m += parts.peer;
    if (t.outcome == Outcome::unmatched_response)
        m += " (query not seen)";
}

// The names Docker's journald log driver uses, so one query finds a
// container's logs and its DNS alike.
void format_container_fields(const Attribution& a, FieldWriter& out) {
    const CgroupContainer& c = a.container;
    if (c.id.empty())
        return;
    out.add("CONTAINER_ID", c.short_id());
    out.add("CONTAINER_ID_FULL", c.id);
    // The runtime that answered knows best: some layouts leave it open.
    const ContainerRuntime runtime =
        a.metadata && a.metadata->runtime != ContainerRuntime::none ? a.metadata->runtime : c.runtime;
    if (runtime != ContainerRuntime::none)
        out.add("CONTAINER_RUNTIME", to_string(runtime));
    if (a.metadata && !a.metadata->name.empty())
        out.add("CONTAINER_NAME", a.metadata->name);
    else if (c.runtime == ContainerRuntime::systemd_nspawn)
        out.add("CONTAINER_NAME", c.id);  // a machine's id is its name
    if (a.metadata && !a.metadata->image.empty())
        out.add("IMAGE_NAME", a.metadata->image);
    if (a.metadata) {
        if (auto ns = a.metadata->k8s_namespace(); !ns.empty())
            out.add("K8S_NAMESPACE", ns);
        if (auto pod = a.metadata->k8s_pod_name(); !pod.empty())
            out.add("K8S_POD_NAME", pod);
        if (auto name = a.metadata->k8s_container_name(); !name.empty())
            out.add("K8S_CONTAINER_NAME", name);
    }
    if (!c.pod_uid.empty())
        out.add("K8S_POD_UID", c.pod_uid);
}

bool same_units(const CgroupUnits& a, const CgroupUnits& b) {
    return a.unit == b.unit && a.user_unit == b.user_unit && a.slice == b.slice;
}

// Only what format_container_fields() reads.
bool same_container(const CgroupContainer& a, const CgroupContainer& b) {
    return a.id == b.id && a.runtime == b.runtime && a.pod_uid == b.pod_uid;
}

// The metadata a runtime sent is never changed afterwards, only replaced, so
// the same pointer means the same content.
bool same_attribution(const Attribution& a, const Attribution& b) {
    return a.exe == b.exe && a.cgroup_path == b.cgroup_path && same_units(a.units, b.units) &&
           same_container(a.container, b.container) && a.metadata == b.metadata;
}

void format_owner_fields(const Transaction& t, const Attribution& a, FieldWriter& out) {
    if (t.owner.pid != 0) {
        add_number(out, "DNS_PID", t.owner.pid);
        out.add("DNS_COMM", t.owner.comm);
        add_number(out, "DNS_UID", t.owner.uid);
    }
    if (!a.exe.empty())
        out.add("DNS_EXE", a.exe);
    if (!a.cgroup_path.empty())
        out.add("DNS_CGROUP", a.cgroup_path);
    if (!a.units.unit.empty())
        out.add("OBJECT_SYSTEMD_UNIT", a.units.unit);
    if (!a.units.user_unit.empty())
        out.add("OBJECT_SYSTEMD_USER_UNIT", a.units.user_unit);
    if (!a.units.slice.empty())
        out.add("OBJECT_SYSTEMD_SLICE", a.units.slice);
    format_container_fields(a, out);
}

}  // namespace

const FieldBlock& EntryFormatter::owner_block(const Transaction& t, const Attribution& a) {
    OwnerBlock& owner = owners_[t.owner.pid % owner_slots];
    if (owner.filled && owner.pid == t.owner.pid && owner.uid == t.owner.uid && owner.comm == t.owner.comm &&
        same_attribution(owner.attribution, a))
        return owner.block;
    // A newcomer, or the same process changed (it ran execve(), say).
    owner.filled = true;
    owner.pid = t.owner.pid;
    owner.uid = t.owner.uid;
    owner.comm = t.owner.comm;
    owner.attribution = a;
    format_owner_fields(t, a, owner.block.refill());
    return owner.block;
}

std::string format_latency(uint64_t ns) {
    std::string text;
    append_latency(text, ns);
    return text;
}

int transaction_priority(const Transaction& t) {
    if (t.outcome == Outcome::answered && t.response && t.response->rcode == 0)
        return priority_info;
    return priority_notice;
}

void EntryFormatter::transaction(const Transaction& t, const Attribution& a, std::string_view parse_error,
                                 FieldWriter& out) {
    const EndpointText server(t.server);
    const EndpointText client(t.client);
    const DnsMnemonic type = dns_type_name(t.question.type);
    const DnsMnemonic rcode = t.response ? dns_rcode_name(t.response->rcode) : DnsMnemonic(std::string_view());
    const MessageParts parts{type, rcode, t.side == Side::client ? server.view() : client.view()};
    // MESSAGE, DNS_ANSWERS and DNS_FLAGS are composed in turn in the one
    // buffer: the writer has copied each before the next begins.
    scratch_.clear();
    append_human_message(scratch_, t, parts);
    out.add("MESSAGE", scratch_);
    out.add("MESSAGE_ID", t.outcome == Outcome::timeout ? message_id_timeout : message_id_transaction);
    add_number(out, "PRIORITY", transaction_priority(t));
    out.add("SYSLOG_IDENTIFIER", "dnsvis");
    out.add("DNS_NAME", t.question.name);
    out.add("DNS_TYPE", type);
    out.add("DNS_CLASS", dns_class_name(t.question.klass));
    if (t.response) {
        out.add("DNS_RCODE", rcode);
        scratch_.clear();
        append_answers_joined(scratch_, t.response->answers);
        out.add("DNS_ANSWERS", scratch_);
        add_number(out, "DNS_ANSWER_COUNT", t.response->answers.size());
    }
    out.add("DNS_OUTCOME", to_string(t.outcome));
    if (auto latency = t.latency_ns())
        add_number(out, "DNS_LATENCY_USEC", *latency / 1000);
    add_number(out, "DNS_ID", t.id);
    out.add("DNS_PROTOCOL", t.transport == Transport::tcp ? "tcp" : "udp");
    out.add("DNS_SERVER", server.view());
    out.add("DNS_CLIENT", client.view());
    out.add("DNS_SIDE", to_string(t.side));
    scratch_.clear();
    append_dns_flags(scratch_, t.response ? t.response->flags : t.query_flags);
    out.add("DNS_FLAGS", scratch_);
    if (t.retransmits > 0)
        add_number(out, "DNS_RETRANSMITS", t.retransmits);
    if (!parse_error.empty())
        out.add("DNS_PARSE_ERROR", parse_error);
    out.add_block(owner_block(t, a));
}

void EntryFormatter::summary(const Statistics& s, FieldWriter& out) {
    const uint64_t lost = s.lost_total();
    scratch_ = "dnsvis summary: " + number(s.captured) + " packets captured, " + number(s.transactions) +
               " transactions, " + number(lost) + " lost";
    out.add("MESSAGE", scratch_);
    out.add("MESSAGE_ID", message_id_summary);
    add_number(out, "PRIORITY", lost > 0 ? priority_warning : priority_info);
    out.add("SYSLOG_IDENTIFIER", "dnsvis");
    for (const CounterField& counter : counter_fields(s))
        add_number(out, counter.field, counter.value);
}

void format_transaction_fields(const Transaction& transaction, const Attribution& attribution,
                               std::string_view parse_error, FieldList& out) {
    out.clear();
    EntryFormatter().transaction(transaction, attribution, parse_error, out);
}

void format_summary_fields(const Statistics& statistics, FieldList& out) {
    out.clear();
    EntryFormatter().summary(statistics, out);
}

}  // namespace dnsvis
