// A random start for the key hashes of one table (transactions, TCP flows).
// Slots are picked by a hash's low bits, and remote peers choose much of what
// is hashed (names, ids, ports): with a start they cannot know, they cannot
// aim their traffic at one probe run or one bucket.
#pragma once

#include <cstdint>

namespace dnsvis {

// `salt` (the table's address) only matters when the kernel has no random
// bytes to give without waiting.
uint64_t random_hash_seed(const void* salt);

}  // namespace dnsvis
