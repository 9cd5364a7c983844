#include "statistics.hpp"

namespace dnsvis {

std::string_view loss_cause_name(LossCause cause) {
    switch (cause) {
    case LossCause::ringbuf: return "RINGBUF";
    case LossCause::tcp: return "TCP";
    case LossCause::table: return "TABLE";
    case LossCause::output: return "OUTPUT";
    case LossCause::malformed: return "MALFORMED";
    case LossCause::unfinished: return "UNFINISHED";
    case LossCause::count_: break;
    }
    return "UNKNOWN";
}

uint64_t Statistics::lost_total() const {
    uint64_t total = 0;
    for (uint64_t n : lost)
        total += n;
    return total;
}

}  // namespace dnsvis
