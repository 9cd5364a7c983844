// DrainPacer: drains aimed at a number of records, at the rate just seen.
#include <doctest/doctest.h>

#include "drain_pacer.hpp"

using dnsvis::DrainPacer;
using dnsvis::DrainPacing;

namespace {

constexpr uint64_t kMs = 1'000'000;  // in ns

}  // namespace

TEST_CASE("drain pacer: steady traffic is drained in batches of the target size") {
    DrainPacer pacer(DrainPacing{256, 1'000, 100'000});
    uint64_t now = 1000 * kMs;
    CHECK(pacer.start(now) == 1'000);  // soon, to learn the rate

    // 128 records a millisecond: 256 take 2 ms.
    now += 1 * kMs;
    CHECK(pacer.next_interval_usec(now, 128) == 2'000);
    now += 2 * kMs;
    CHECK(pacer.next_interval_usec(now, 256) == 2'000);

    // Four times the rate: four times as often.
    now += 2 * kMs;
    CHECK(pacer.next_interval_usec(now, 1024) == 1'000);  // 500 us, but not below the minimum
    // A quarter of it: up to 8 ms.
    now += 1 * kMs;
    CHECK(pacer.next_interval_usec(now, 32) == 8'000);
    CHECK(pacer.interval_usec() == 8'000);  // kept for whoever arms the timer
}

TEST_CASE("drain pacer: little or no traffic waits the longest") {
    DrainPacer pacer(DrainPacing{256, 1'000, 100'000});
    uint64_t now = 5 * kMs;
    pacer.start(now);
    now += 1 * kMs;
    CHECK(pacer.next_interval_usec(now, 0) == 100'000);
    now += 100 * kMs;
    CHECK(pacer.next_interval_usec(now, 3) == 100'000);  // 8.5 s at this rate, capped
}

TEST_CASE("drain pacer: two drains at the same instant do not divide by zero") {
    DrainPacer pacer;
    pacer.start(7 * kMs);
    CHECK(pacer.next_interval_usec(7 * kMs, 500) == DrainPacing{}.max_interval_usec);
    // Without start(), the first drain has nothing to measure against.
    DrainPacer fresh;
    CHECK(fresh.next_interval_usec(9 * kMs, 500) == DrainPacing{}.max_interval_usec);
}
