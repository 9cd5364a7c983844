#include "statistics_names.hpp"

#include <cctype>

namespace dnsvis {

std::vector<std::pair<std::string, uint64_t>> named_counters(const Statistics& s) {
    std::vector<std::pair<std::string, uint64_t>> out{
        {"captured", s.captured},
        {"cut", s.cut},
        {"filtered", s.filtered},
        {"transactions", s.transactions},
        {"answered", s.answered},
        {"timeouts", s.timeouts},
        {"unmatched_responses", s.unmatched_responses},
        {"retransmits", s.retransmits},
        {"late_answers", s.late_answers},
        {"parse_errors", s.parse_errors},
        {"lost", s.lost_total()},
    };
    for (size_t i = 0; i < loss_cause_count; ++i) {
        std::string name = "lost_";
        for (char c : loss_cause_name(static_cast<LossCause>(i)))
            name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.emplace_back(std::move(name), s.lost[i]);
    }
    return out;
}

}  // namespace dnsvis
