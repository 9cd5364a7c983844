// How a fuzz target reports a broken promise of the code under test: it
// aborts, which libFuzzer records as a crash, with the input that caused it.
#pragma once

#include <cstdlib>

namespace dnsvis::fuzz {

inline void require(bool condition) {
    if (!condition)
        std::abort();
}

}  // namespace dnsvis::fuzz
