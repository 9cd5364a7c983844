// CLOCK_MONOTONIC in nanoseconds: the clock of the kernel's timestamps
// (bpf_ktime_get_ns) and of every deadline in dnsvisd.
#pragma once

#include <time.h>

#include <cstdint>

namespace dnsvis {

inline uint64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace dnsvis
