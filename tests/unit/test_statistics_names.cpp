#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>

#include "statistics_names.hpp"

using namespace dnsvis;

TEST_CASE("every counter has its lower-case name, every loss cause its lost_<cause> key") {
    Statistics s;
    s.captured = 1;
    s.cut = 2;
    s.filtered = 3;
    s.transactions = 4;
    s.answered = 5;
    s.timeouts = 6;
    s.unmatched_responses = 7;
    s.retransmits = 8;
    s.parse_errors = 9;
    s.late_answers = 16;
    s.transfer_messages = 17;
    s.lost_by(LossCause::ringbuf) = 10;
    s.lost_by(LossCause::tcp) = 11;
    s.lost_by(LossCause::table) = 12;
    s.lost_by(LossCause::output) = 13;
    s.lost_by(LossCause::malformed) = 14;
    s.lost_by(LossCause::unfinished) = 15;

    std::map<std::string, uint64_t> named;
    for (const auto& counter : named_counters(s)) {
        CHECK_MESSAGE(named.count(counter.first) == 0, "duplicate key " << counter.first);
        named[counter.first] = counter.second;
    }
    const std::map<std::string, uint64_t> expected{
        {"captured", 1},
        {"cut", 2},
        {"filtered", 3},
        {"transactions", 4},
        {"answered", 5},
        {"timeouts", 6},
        {"unmatched_responses", 7},
        {"retransmits", 8},
        {"parse_errors", 9},
        {"late_answers", 16},
        {"transfer_messages", 17},
        {"lost", 75},
        {"lost_ringbuf", 10},
        {"lost_tcp", 11},
        {"lost_table", 12},
        {"lost_output", 13},
        {"lost_malformed", 14},
        {"lost_unfinished", 15},
    };
    CHECK(named == expected);
    CHECK(named.size() == 12 + loss_cause_count);
}
