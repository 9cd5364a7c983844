#include <doctest/doctest.h>

#include "core/load_plans.hpp"

using dnsvis::load_plans;
using dnsvis::LoadPlan;

namespace {

bool same(const LoadPlan& plan, bool leader, bool execs, uint32_t sender) {
    return plan.read_leader_comm == leader && plan.follow_execs == execs && plan.sender_source == sender;
}

}  // namespace

TEST_CASE("a current kernel with BTF and CAP_PERFMON: everything first, the plain programs last") {
    const auto plans = load_plans(true, true);
    REQUIRE(plans.size() == 4);
    CHECK(same(plans[0], true, true, DNSVIS_SENDER_HELPERS));
    CHECK(same(plans[1], true, false, DNSVIS_SENDER_HELPERS));
    CHECK(same(plans[2], false, false, DNSVIS_SENDER_HELPERS));
    CHECK(plans[3].plain());
    CHECK_FALSE(plans[2].plain());
}

TEST_CASE("Linux 6.1 with BTF and CAP_PERFMON: the egress program reads the sending task") {
    const auto plans = load_plans(true, false);
    REQUIRE(plans.size() == 3);
    CHECK(same(plans[0], true, true, DNSVIS_SENDER_TASK));
    CHECK(same(plans[1], true, false, DNSVIS_SENDER_TASK));
    CHECK(same(plans[2], false, false, DNSVIS_SENDER_SOCKET_MAP));
}

TEST_CASE("without CAP_PERFMON: the helpers where the kernel allows them, else only the plain programs") {
    const auto with_helpers = load_plans(false, true);
    REQUIRE(with_helpers.size() == 2);
    CHECK(same(with_helpers[0], false, false, DNSVIS_SENDER_HELPERS));
    CHECK(with_helpers[1].plain());

    const auto without = load_plans(false, false);
    REQUIRE(without.size() == 1);
    CHECK(same(without[0], false, false, DNSVIS_SENDER_SOCKET_MAP));
}

TEST_CASE("no plan reads the task without the kernel's structures") {
    for (const bool helpers : {true, false})
        for (const LoadPlan& plan : load_plans(false, helpers))
            CHECK(plan.sender_source != DNSVIS_SENDER_TASK);
}
