#include "hash_seed.hpp"

#include "hash_mix.hpp"

#include <sys/random.h>
#include <time.h>

namespace dnsvis {

// getrandom does not wait for the entropy pool here: a daemon started early
// in boot must not hang on it, and a seed that is merely unpredictable enough
// (clock and address) still defeats precomputed collisions.
uint64_t random_hash_seed(const void* salt) {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof seed)) {
        timespec now{};
        clock_gettime(CLOCK_MONOTONIC, &now);
        seed = mix(mix(static_cast<uint64_t>(now.tv_sec), static_cast<uint64_t>(now.tv_nsec)),
                   reinterpret_cast<uintptr_t>(salt));
    }
    return seed;
}

}  // namespace dnsvis
