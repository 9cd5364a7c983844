#include "drain_pacer.hpp"

#include <algorithm>

namespace dnsvis {

uint64_t DrainPacer::start(uint64_t now_ns) {
    last_ns_ = now_ns;
    started_ = true;
    return interval_usec_ = pacing_.min_interval_usec;
}

uint64_t DrainPacer::next_interval_usec(uint64_t now_ns, uint64_t records) {
    const uint64_t elapsed_usec = started_ && now_ns > last_ns_ ? (now_ns - last_ns_) / 1000 : 0;
    last_ns_ = now_ns;
    started_ = true;
    if (records == 0 || elapsed_usec == 0)
        return interval_usec_ = pacing_.max_interval_usec;
    // The time `target_records` took to arrive at the rate just seen.
    const uint64_t interval = elapsed_usec * pacing_.target_records / records;
    return interval_usec_ = std::clamp(interval, pacing_.min_interval_usec, pacing_.max_interval_usec);
}

}  // namespace dnsvis
