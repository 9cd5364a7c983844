#include "transaction_fields.hpp"

#include <array>
#include <charconv>

#include "dns_names.hpp"

namespace dnsvis {

namespace {

constexpr int priority_info = 6;
constexpr int priority_notice = 5;
constexpr int priority_warning = 4;
// The human line lists this many answers; DNS_ANSWERS has them all.
constexpr size_t message_answer_limit = 3;

template <typename Number>
std::string number(Number n) {
    char buffer[24];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, n);
    (void)ec;
    return std::string(buffer, end);
}

void add(FieldList& out, std::string_view name, std::string value) {
    out.push_back(Field{name, std::move(value)});
}

std::string answers_joined(const std::vector<DnsRecord>& answers) {
    std::string joined;
    for (const DnsRecord& record : answers) {
        if (!joined.empty())
            joined += ' ';
        joined += record.data;
    }
    return joined;
}

std::string process_label(const Transaction& t) {
    if (t.owner.pid == 0)
        return "unknown-process";
    std::string label = t.owner.comm.empty() ? std::string("?") : t.owner.comm;
    label += '[';
    label += number(t.owner.pid);
    label += ']';
    return label;
}

std::string human_message(const Transaction& t) {
    std::string m = process_label(t);
    m += ' ';
    m += t.question.name.empty() ? std::string("(no question)") : t.question.name;
    m += ' ';
    m += dns_type_name(t.question.type);
    m += " → ";
    if (t.outcome == Outcome::timeout) {
        m += "no response";
        if (t.retransmits > 0) {
            m += " after ";
            m += number(t.retransmits + 1);
            m += " tries";
        }
    } else if (t.response) {
        m += dns_rcode_name(t.response->rcode);
        const auto& answers = t.response->answers;
        for (size_t i = 0; i < answers.size() && i < message_answer_limit; ++i) {
            m += ' ';
            m += answers[i].data;
        }
        if (answers.size() > message_answer_limit) {
            m += " (+";
            m += number(answers.size() - message_answer_limit);
            m += " more)";
        }
        if (auto latency = t.latency_ns()) {
            m += " (";
            m += format_latency(*latency);
            m += ')';
        }
    }
    m += t.side == Side::client ? " via " : " from ";
    m += t.side == Side::client ? t.server.to_string() : t.client.to_string();
    if (t.outcome == Outcome::unmatched_response)
        m += " (query not seen)";
    return m;
}

// The names Docker's journald log driver uses, so one query finds a
// container's logs and its DNS alike.
void format_container_fields(const Attribution& a, FieldList& out) {
    const CgroupContainer& c = a.container;
    if (c.id.empty())
        return;
    add(out, "CONTAINER_ID", c.short_id());
    add(out, "CONTAINER_ID_FULL", c.id);
    if (c.runtime != ContainerRuntime::none)
        add(out, "CONTAINER_RUNTIME", std::string(to_string(c.runtime)));
    if (a.metadata && !a.metadata->name.empty())
        add(out, "CONTAINER_NAME", a.metadata->name);
    else if (c.runtime == ContainerRuntime::systemd_nspawn)
        add(out, "CONTAINER_NAME", c.id);  // a machine's id is its name
    if (a.metadata && !a.metadata->image.empty())
        add(out, "IMAGE_NAME", a.metadata->image);
    if (a.metadata) {
        if (auto ns = a.metadata->k8s_namespace(); !ns.empty())
            add(out, "K8S_NAMESPACE", std::move(ns));
        if (auto pod = a.metadata->k8s_pod_name(); !pod.empty())
            add(out, "K8S_POD_NAME", std::move(pod));
        if (auto name = a.metadata->k8s_container_name(); !name.empty())
            add(out, "K8S_CONTAINER_NAME", std::move(name));
    }
    if (!c.pod_uid.empty())
        add(out, "K8S_POD_UID", c.pod_uid);
}

}  // namespace

std::string format_latency(uint64_t ns) {
    // Integer arithmetic, rounded half up: this runs for every transaction,
    // and printf's floating point showed up in profiles.
    auto fixed = [](uint64_t value, uint64_t unit, int decimals, const char* suffix) {
        const uint64_t scaled = (value + unit / 2) / unit;  // in units of 10^-decimals
        const uint64_t divisor = decimals == 1 ? 10 : 100;
        std::string text = number(scaled / divisor);
        text += '.';
        const uint64_t fraction = scaled % divisor;
        if (decimals == 2 && fraction < 10)
            text += '0';
        text += number(fraction);
        text += suffix;
        return text;
    };
    if (ns < 100'000)  // below 0.1 ms one decimal would round to nothing
        return fixed(ns, 10'000, 2, " ms");
    if (ns < 999'950'000)
        return fixed(ns, 100'000, 1, " ms");
    return fixed(ns, 10'000'000, 2, " s");
}

int transaction_priority(const Transaction& t) {
    if (t.outcome == Outcome::answered && t.response && t.response->rcode == 0)
        return priority_info;
    return priority_notice;
}

void format_transaction_fields(const Transaction& t, const Attribution& a, std::string_view parse_error,
                               FieldList& out) {
    out.clear();
    add(out, "MESSAGE", human_message(t));
    add(out, "MESSAGE_ID",
        std::string(t.outcome == Outcome::timeout ? message_id_timeout : message_id_transaction));
    add(out, "PRIORITY", number(transaction_priority(t)));
    add(out, "SYSLOG_IDENTIFIER", "dnsvis");
    add(out, "DNS_NAME", t.question.name);
    add(out, "DNS_TYPE", dns_type_name(t.question.type));
    add(out, "DNS_CLASS", dns_class_name(t.question.klass));
    if (t.response) {
        add(out, "DNS_RCODE", dns_rcode_name(t.response->rcode));
        add(out, "DNS_ANSWERS", answers_joined(t.response->answers));
        add(out, "DNS_ANSWER_COUNT", number(t.response->answers.size()));
    }
    add(out, "DNS_OUTCOME", std::string(to_string(t.outcome)));
    if (auto latency = t.latency_ns())
        add(out, "DNS_LATENCY_USEC", number(*latency / 1000));
    add(out, "DNS_ID", number(t.id));
    add(out, "DNS_PROTOCOL", t.transport == Transport::tcp ? "tcp" : "udp");
    add(out, "DNS_SERVER", t.server.to_string());
    add(out, "DNS_CLIENT", t.client.to_string());
    add(out, "DNS_SIDE", std::string(to_string(t.side)));
    add(out, "DNS_FLAGS", dns_flags_string(t.response ? t.response->flags : t.query_flags));
    if (t.retransmits > 0)
        add(out, "DNS_RETRANSMITS", number(t.retransmits));
    if (!parse_error.empty())
        add(out, "DNS_PARSE_ERROR", std::string(parse_error));
    if (t.owner.pid != 0) {
        add(out, "DNS_PID", number(t.owner.pid));
        add(out, "DNS_COMM", t.owner.comm);
        add(out, "DNS_UID", number(t.owner.uid));
    }
    if (!a.exe.empty())
        add(out, "DNS_EXE", a.exe);
    if (!a.cgroup_path.empty())
        add(out, "DNS_CGROUP", a.cgroup_path);
    if (!a.units.unit.empty())
        add(out, "OBJECT_SYSTEMD_UNIT", a.units.unit);
    if (!a.units.user_unit.empty())
        add(out, "OBJECT_SYSTEMD_USER_UNIT", a.units.user_unit);
    if (!a.units.slice.empty())
        add(out, "OBJECT_SYSTEMD_SLICE", a.units.slice);
    format_container_fields(a, out);
}

void format_summary_fields(const Statistics& s, FieldList& out) {
    out.clear();
    const uint64_t lost = s.lost_total();
    std::string message = "dnsvis summary: " + number(s.captured) + " packets captured, " +
                          number(s.transactions) + " transactions, " + number(lost) + " lost";
    add(out, "MESSAGE", std::move(message));
    add(out, "MESSAGE_ID", std::string(message_id_summary));
    add(out, "PRIORITY", number(lost > 0 ? priority_warning : priority_info));
    add(out, "SYSLOG_IDENTIFIER", "dnsvis");
    add(out, "DNSVIS_CAPTURED", number(s.captured));
    add(out, "DNSVIS_TRANSACTIONS", number(s.transactions));
    add(out, "DNSVIS_ANSWERED", number(s.answered));
    add(out, "DNSVIS_TIMEOUTS", number(s.timeouts));
    add(out, "DNSVIS_UNMATCHED_RESPONSES", number(s.unmatched_responses));
    add(out, "DNSVIS_RETRANSMITS", number(s.retransmits));
    add(out, "DNSVIS_PARSE_ERRORS", number(s.parse_errors));
    add(out, "DNSVIS_CUT", number(s.cut));
    add(out, "DNSVIS_FILTERED", number(s.filtered));
    add(out, "DNSVIS_LOST", number(lost));
    // Field names must outlive the list, so they are built once.
    static const auto lost_field_names = [] {
        std::array<std::string, loss_cause_count> names;
        for (size_t i = 0; i < loss_cause_count; ++i)
            names[i] = "DNSVIS_LOST_" + std::string(loss_cause_name(static_cast<LossCause>(i)));
        return names;
    }();
    for (size_t i = 0; i < loss_cause_count; ++i)
        add(out, lost_field_names[i], number(s.lost[i]));
}

}  // namespace dnsvis
