#include <doctest/doctest.h>

#include <cstdint>

#include "tcp_closed_flows.hpp"

using namespace dnsvis;

namespace {

TcpFlowKey closed_key(uint64_t cookie) {
    TcpFlowKey k;
    k.socket_cookie = cookie;
    k.source.address = {10, 0, 0, 1};
    k.source.port = 40000;
    k.destination.address = {10, 0, 0, 53};
    k.destination.port = 53;
    return k;
}

}  // namespace

TEST_CASE("closed flows: only what the flow went through is a copy") {
    TcpClosedFlows closed(16, 1000, TcpFlowKeyHash{7});
    closed.remember(closed_key(1), 100, 200, 0);            // data 100..198, FIN at 199
    CHECK(closed.covers(closed_key(1), 100, 100, 1));       // everything, FIN included
    CHECK(closed.covers(closed_key(1), 150, 50, 1));        // the final segment and its FIN
    CHECK(closed.covers(closed_key(1), 120, 10, 1));        // an earlier segment
    CHECK_FALSE(closed.covers(closed_key(1), 150, 51, 1));  // beyond the FIN
    CHECK_FALSE(closed.covers(closed_key(1), 99, 10, 1));   // before the flow was seen
    CHECK_FALSE(closed.covers(closed_key(1), 300, 10, 1));
    CHECK_FALSE(closed.covers(closed_key(2), 150, 50, 1));  // another socket
    CHECK(closed.size() == 1);
}

TEST_CASE("closed flows: sequence numbers wrap around at 2^32") {
    TcpClosedFlows closed(16, 1000, TcpFlowKeyHash{7});
    closed.remember(closed_key(1), 0xFFFFFFF0u, 0x20, 0);
    CHECK(closed.covers(closed_key(1), 0xFFFFFFF0u, 0x30, 1));
    CHECK(closed.covers(closed_key(1), 0xFFFFFFFAu, 0x10, 1));
    CHECK(closed.covers(closed_key(1), 0x10, 0x10, 1));
    CHECK_FALSE(closed.covers(closed_key(1), 0x10, 0x11, 1));
    CHECK_FALSE(closed.covers(closed_key(1), 0xFFFFFFE0u, 0x10, 1));
}

TEST_CASE("closed flows: a segment longer than the range, half the sequence space away, is no copy") {
    TcpClosedFlows closed(16, 1000, TcpFlowKeyHash{7});
    closed.remember(closed_key(1), 1000, 1023, 0);  // a 22-byte final segment and its FIN
    // Its start some 2^31 past the range's, its end some 2^31 before the
    // range's end: signed distances from each end alone would take it in.
    CHECK_FALSE(closed.covers(closed_key(1), 0x800003D8u, 100, 1));
    CHECK_FALSE(closed.covers(closed_key(1), 1000, 0xFFFFFFF0u, 1));
    CHECK(closed.covers(closed_key(1), 1000, 23, 1));
}

TEST_CASE("closed flows: at most the limit, the oldest forgotten first") {
    TcpClosedFlows closed(3, 1000, TcpFlowKeyHash{7});
    for (uint64_t cookie = 1; cookie <= 3; ++cookie)
        closed.remember(closed_key(cookie), 0, 10, cookie);
    // A copy makes flow 1 the most recently seen: flow 2 is now the oldest.
    CHECK(closed.covers(closed_key(1), 0, 10, 4));
    closed.remember(closed_key(4), 0, 10, 5);
    CHECK(closed.size() == 3);
    CHECK_FALSE(closed.covers(closed_key(2), 0, 10, 6));
    CHECK(closed.covers(closed_key(1), 0, 10, 6));
    CHECK(closed.covers(closed_key(3), 0, 10, 6));
    CHECK(closed.covers(closed_key(4), 0, 10, 6));
    // Remembering a flow again replaces its record, and takes no more room.
    closed.remember(closed_key(3), 50, 60, 7);
    CHECK(closed.size() == 3);
    CHECK_FALSE(closed.covers(closed_key(3), 0, 10, 8));
    CHECK(closed.covers(closed_key(3), 50, 10, 8));
    for (uint64_t cookie = 100; cookie < 1100; ++cookie)
        closed.remember(closed_key(cookie), 0, 10, 9);
    CHECK(closed.size() == 3);
}

TEST_CASE("closed flows: a limit of zero keeps one") {
    TcpClosedFlows closed(0, 1000, TcpFlowKeyHash{7});
    closed.remember(closed_key(1), 0, 10, 0);
    CHECK(closed.covers(closed_key(1), 0, 10, 1));
    closed.remember(closed_key(2), 0, 10, 2);
    CHECK(closed.size() == 1);
    CHECK(closed.covers(closed_key(2), 0, 10, 3));
}

TEST_CASE("closed flows: each is kept for the linger after it was last seen") {
    TcpClosedFlows closed(16, 1000, TcpFlowKeyHash{7});
    closed.remember(closed_key(1), 0, 10, 100);
    closed.remember(closed_key(2), 0, 10, 200);
    CHECK(closed.covers(closed_key(1), 0, 10, 1099));  // seen again: kept until 2099
    closed.expire(1199);
    CHECK(closed.size() == 2);
    closed.expire(1200);
    CHECK(closed.size() == 1);
    CHECK_FALSE(closed.covers(closed_key(2), 0, 10, 1200));
    // Past its time a flow answers no, expired or not.
    CHECK_FALSE(closed.covers(closed_key(1), 0, 10, 2099));
    CHECK(closed.size() == 0);
    // A clock that steps back expires nothing.
    closed.remember(closed_key(3), 0, 10, 5000);
    closed.expire(10);
    CHECK(closed.covers(closed_key(3), 0, 10, 20));
}

TEST_CASE("closed flows: forget and clear") {
    TcpClosedFlows closed(16, 1000, TcpFlowKeyHash{7});
    closed.remember(closed_key(1), 0, 10, 0);
    closed.remember(closed_key(2), 0, 10, 0);
    closed.forget(closed_key(1));
    closed.forget(closed_key(9));  // not there: nothing happens
    CHECK(closed.size() == 1);
    CHECK_FALSE(closed.covers(closed_key(1), 0, 10, 1));
    CHECK(closed.covers(closed_key(2), 0, 10, 1));
    closed.clear();
    CHECK(closed.size() == 0);
    CHECK_FALSE(closed.covers(closed_key(2), 0, 10, 1));
    // Usable after clear().
    closed.remember(closed_key(3), 0, 10, 2);
    CHECK(closed.covers(closed_key(3), 0, 10, 3));
}
