#include "statistics.hpp"

#include <iterator>

namespace dnsvis {

std::array<CounterField, counter_field_count> counter_fields(const Statistics& s) {
    // DNSVIS_LOST_<cause>, in LossCause's order.
    static constexpr std::string_view lost_fields[] = {
        "DNSVIS_LOST_RINGBUF", "DNSVIS_LOST_TCP", "DNSVIS_LOST_TABLE",
        "DNSVIS_LOST_OUTPUT",  "DNSVIS_LOST_MALFORMED", "DNSVIS_LOST_UNFINISHED",
    };
    static_assert(std::size(lost_fields) == loss_cause_count);
    std::array<CounterField, counter_field_count> fields{{
        {"DNSVIS_CAPTURED", s.captured},
        {"DNSVIS_TRANSACTIONS", s.transactions},
        {"DNSVIS_ANSWERED", s.answered},
        {"DNSVIS_TIMEOUTS", s.timeouts},
        {"DNSVIS_UNMATCHED_RESPONSES", s.unmatched_responses},
        {"DNSVIS_RETRANSMITS", s.retransmits},
        {"DNSVIS_LATE_ANSWERS", s.late_answers},
        {"DNSVIS_TRANSFER_MESSAGES", s.transfer_messages},
        {"DNSVIS_PARSE_ERRORS", s.parse_errors},
        {"DNSVIS_CUT", s.cut},
        {"DNSVIS_FILTERED", s.filtered},
        {"DNSVIS_LOST", s.lost_total()},
    }};
    for (size_t i = 0; i < loss_cause_count; ++i)
        fields[named_counter_count + i] = {lost_fields[i], s.lost[i]};
    return fields;
}

uint64_t Statistics::lost_total() const {
    uint64_t total = 0;
    for (uint64_t n : lost)
        total += n;
    return total;
}

}  // namespace dnsvis
