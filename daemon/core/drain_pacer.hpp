// When to drain the ring buffer next while events flow.
//
// A drain handles everything that arrived since the one before, in one burst
// of CPU, and on a busy machine a burst of several milliseconds stalls
// whatever shares the core with dnsvisd. Measured with dnsperf against NSD
// on two cores (tests/bench): a process burning 20% of a core in 4 ms bursts
// cost 20% of the queries per second, the same 20% in 0.2 ms bursts cost
// nothing measurable. So drains are paced to handle about `target_records`
// each, at the rate the previous drains saw, within [min, max] apart: short
// bursts at high rates, few wake-ups at low ones.
#pragma once

#include <cstdint>

namespace dnsvis {

struct DrainPacing {
    uint64_t target_records = 256;        // about 0.3 ms of work
    uint64_t min_interval_usec = 1'000;   // at most 1000 wake-ups a second
    uint64_t max_interval_usec = 100'000; // how late an entry may appear
};

class DrainPacer {
public:
    explicit DrainPacer(DrainPacing pacing = {}) : pacing_(pacing) {}

    // Events start flowing at `now_ns`: the first drain comes soon, to
    // learn the rate.
    uint64_t start(uint64_t now_ns);
    // A drain at `now_ns` handled `records`: the interval until the next.
    uint64_t next_interval_usec(uint64_t now_ns, uint64_t records);
    // What start() or next_interval_usec() said last.
    uint64_t interval_usec() const { return interval_usec_; }

private:
    DrainPacing pacing_;
    uint64_t last_ns_ = 0;
    bool started_ = false;
    uint64_t interval_usec_ = pacing_.max_interval_usec;
};

}  // namespace dnsvis
