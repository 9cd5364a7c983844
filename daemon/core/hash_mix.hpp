// The mixing step of the hash tables' key hashes (transactions, TCP flows):
// one multiply and shift per 64-bit word, fast enough for a hash per packet.
#pragma once

#include <cstdint>
#include <cstring>

#include "packet_event.hpp"

namespace dnsvis {

inline uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

// Address (all 16 bytes: IPv4 leaves the rest zero), port and family.
inline uint64_t mix_endpoint(uint64_t h, const Endpoint& e) {
    uint64_t a = 0;
    uint64_t b = 0;
    std::memcpy(&a, e.address.data(), 8);
    std::memcpy(&b, e.address.data() + 8, 8);
    h = mix(h, a);
    h = mix(h, b);
    return mix(h, (uint64_t{e.port} << 1) | (e.ipv6 ? 1u : 0u));
}

}  // namespace dnsvis
