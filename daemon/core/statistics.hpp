// The daemon's counters: what was captured, what was reported, and every
// place an event can be lost. Summaries, GetStatistics and the tests read
// these names.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace dnsvis {

enum class LossCause : uint8_t {
    ringbuf,      // kernel: ring buffer full, event never reached user space
    tcp,          // TCP stream data discarded: gap, cut capture, flow or byte budget
    table,        // query not tracked: transaction table full
    output,       // the sink refused the entry (journald error, stdout write error)
    malformed,    // a DNS message too short to hold a DNS header (empty ones too), or a packet not readable
    unfinished,   // queries still waiting for an answer when the daemon stopped
    count_,
};

inline constexpr size_t loss_cause_count = static_cast<size_t>(LossCause::count_);

struct Statistics {
    uint64_t captured = 0;      // events the kernel wrote to the ring buffer
    uint64_t cut = 0;           // events whose payload exceeded the snap length
    uint64_t filtered = 0;      // DNS packets skipped by the visibility scope
    // Transaction entries made, all outcomes: handed to the sink, which may
    // still refuse one (then counted as lost output too).
    uint64_t transactions = 0;
    uint64_t answered = 0;
    uint64_t timeouts = 0;
    uint64_t unmatched_responses = 0;
    uint64_t retransmits = 0;
    uint64_t late_answers = 0;  // answers to retransmitted copies of an answered query
    uint64_t transfer_messages = 0;  // a zone transfer's messages after its first
    // Messages that did not parse completely, queries and answers alike; an
    // answer's entry says what was wrong in DNS_PARSE_ERROR.
    uint64_t parse_errors = 0;
    std::array<uint64_t, loss_cause_count> lost{};

    uint64_t& lost_by(LossCause cause) { return lost[static_cast<size_t>(cause)]; }
    uint64_t lost_by(LossCause cause) const { return lost[static_cast<size_t>(cause)]; }
    uint64_t lost_total() const;
};

// One counter under its summary field name ("DNSVIS_CAPTURED"). The one
// list of them: summaries write these fields, and GetStatistics and
// `dnsvisctl stats` use the same names without the prefix, lower-cased.
struct CounterField {
    std::string_view field;  // static storage
    uint64_t value;
};
// The counters before the per-cause losses: DNSVIS_CAPTURED to DNSVIS_LOST.
inline constexpr size_t named_counter_count = 12;
inline constexpr size_t counter_field_count = named_counter_count + loss_cause_count;
std::array<CounterField, counter_field_count> counter_fields(const Statistics& statistics);

}  // namespace dnsvis
