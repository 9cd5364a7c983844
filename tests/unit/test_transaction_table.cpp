#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "transaction_table.hpp"

using namespace dnsvis;

namespace {

constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypeAAAA = 28;
constexpr uint16_t kClassIN = 1;
constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kMillisecond = 1'000'000;

Endpoint v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
    Endpoint e;
    e.address = {a, b, c, d};
    e.port = port;
    return e;
}

const Endpoint kClient = v4(10, 0, 0, 1, 40000);
const Endpoint kServer = v4(10, 0, 0, 53, 53);

DnsMessage query(uint16_t id, const std::string& name, uint16_t type = kTypeA) {
    DnsMessage m;
    m.id = id;
    m.flags = dns_flag::rd;
    m.question_count = 1;
    m.questions.push_back({name, type, kClassIN});
    return m;
}

DnsMessage response(uint16_t id, const std::string& name, uint16_t type = kTypeA, uint16_t rcode = 0) {
    DnsMessage m = query(id, name, type);
    m.flags = static_cast<uint16_t>(dns_flag::qr | dns_flag::rd | dns_flag::ra | (rcode & 0xf));
    m.answers.push_back({name, type, kClassIN, 300, "192.0.2.1"});
    m.answer_count = 1;
    return m;
}

SocketOwner owner(uint32_t pid, const std::string& comm = "app") {
    SocketOwner o;
    o.pid = pid;
    o.tid = pid;
    o.uid = 1000;
    o.comm = comm;
    o.cgroup_id = 77;
    return o;
}

// A message leaving or arriving at a socket.
MessageContext context(uint64_t ts, Direction direction, const Endpoint& source, const Endpoint& destination,
                       uint64_t cookie = 1, uint32_t pid = 100) {
    MessageContext c;
    c.timestamp_ns = ts;
    c.socket_cookie = cookie;
    c.direction = direction;
    c.transport = Transport::udp;
    c.source = source;
    c.destination = destination;
    c.owner = owner(pid);
    return c;
}

// The client side: queries leave, responses arrive.
MessageContext client_query(uint64_t ts, uint64_t cookie = 1, const Endpoint& client = kClient) {
    return context(ts, Direction::egress, client, kServer, cookie);
}
MessageContext client_response(uint64_t ts, uint64_t cookie = 1, const Endpoint& client = kClient) {
    return context(ts, Direction::ingress, kServer, client, cookie);
}

TransactionTableLimits with_timeout(uint64_t timeout_ns) {
    TransactionTableLimits limits;
    limits.timeout_ns = timeout_ns;
    return limits;
}

// Room for one waiting query, which waits 5 s.
TransactionTableLimits one_place() {
    TransactionTableLimits limits = with_timeout(5 * kSecond);
    limits.max_pending = 1;
    return limits;
}

struct Harness {
    explicit Harness(TransactionTableLimits limits = {}) : table(limits) {}

    TransactionTable table;
    std::vector<Transaction> out;
    TransactionTable::Sink sink = [this](Transaction&& t) { out.push_back(std::move(t)); };

    void q(const MessageContext& c, const DnsMessage& m) { table.on_query(c, m); }
    void r(const MessageContext& c, const DnsMessage& m) {
        DnsMessage lent = m;  // on_response borrows the answers
        table.on_response(c, lent, sink);
    }
    void expire(uint64_t now) { table.expire(now, sink); }
    // A client asks, asks again on the same socket, and gets an answer.
    void retransmitted_then_answered(uint16_t id, const std::string& name, uint64_t asked, uint64_t asked_again,
                                     uint64_t answered) {
        q(client_query(asked), query(id, name));
        q(client_query(asked_again), query(id, name));
        r(client_response(answered), response(id, name));
    }
};

}  // namespace

TEST_CASE("client side: query and response make an answered transaction") {
    Harness h;
    MessageContext qc = client_query(1000);
    qc.transport = Transport::tcp;
    h.q(qc, query(0x1234, "example.com"));
    CHECK(h.out.empty());
    CHECK(h.table.pending() == 1);

    MessageContext rc = client_response(1500);
    rc.transport = Transport::tcp;
    rc.owner = owner(100, "other");  // the socket map names the same process
    h.r(rc, response(0x1234, "example.com"));
    REQUIRE(h.out.size() == 1);
    const Transaction& t = h.out[0];
    CHECK(t.outcome == Outcome::answered);
    CHECK(t.side == Side::client);
    CHECK(t.transport == Transport::tcp);
    CHECK(t.id == 0x1234);
    CHECK(t.question.name == "example.com");
    CHECK(t.question.type == kTypeA);
    CHECK(t.question.klass == kClassIN);
    CHECK(t.query_flags == dns_flag::rd);
    CHECK(t.client == kClient);
    CHECK(t.server == kServer);
    CHECK(t.socket_cookie == 1);
    CHECK(t.owner.pid == 100);  // the query's process asked
    CHECK(t.owner.comm == "app");
    CHECK(t.owner.cgroup_id == 77);
    CHECK(t.query_ns == 1000u);
    CHECK(t.response_ns == 1500u);
    CHECK(t.latency_ns() == 500u);
    CHECK(t.retransmits == 0);
    REQUIRE(t.response.has_value());
    CHECK(t.response->flags == (dns_flag::qr | dns_flag::rd | dns_flag::ra));
    CHECK(t.response->rcode == 0);
    REQUIRE(t.response->answers.size() == 1);
    CHECK(t.response->answers[0].data == "192.0.2.1");

    CHECK(h.table.pending() == 0);
    const auto& c = h.table.counters();
    CHECK(c.queries == 1);
    CHECK(c.responses == 1);
    CHECK(c.answered == 1);
    CHECK(c.timeouts == 0);
    CHECK(c.unmatched_responses == 0);
    // Nothing left to time out.
    h.expire(100 * kSecond);
    CHECK(h.out.size() == 1);
}

TEST_CASE("server side: query arrives, response leaves") {
    Harness h;
    h.q(context(10, Direction::ingress, kClient, kServer), query(7, "example.org"));
    h.r(context(30, Direction::egress, kServer, kClient), response(7, "example.org", kTypeA, 3));
    REQUIRE(h.out.size() == 1);
    const Transaction& t = h.out[0];
    CHECK(t.outcome == Outcome::answered);
    CHECK(t.side == Side::server);
    CHECK(t.client == kClient);
    CHECK(t.server == kServer);
    CHECK(t.latency_ns() == 20u);
    CHECK(t.response->rcode == 3);
}

TEST_CASE("a response for the server side does not complete a client-side query") {
    Harness h;
    // The same socket seen sending a query and sending a response: the
    // second is a server's answer to some other client, not a match.
    h.q(client_query(10), query(7, "example.org"));
    h.r(context(30, Direction::egress, kServer, kClient), response(7, "example.org"));
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].outcome == Outcome::unmatched_response);
    CHECK(h.table.pending() == 1);
}

TEST_CASE("the question name matches case-insensitively") {
    Harness h;
    h.q(client_query(0), query(1, "WwW.Example.COM"));
    h.r(client_response(5), response(1, "www.example.com"));
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].outcome == Outcome::answered);
    CHECK(h.out[0].question.name == "WwW.Example.COM");  // as the query had it
    CHECK(h.table.pending() == 0);
}

TEST_CASE("a different id, type, class or name does not match") {
    Harness h;
    h.q(client_query(0), query(1, "example.com"));
    SUBCASE("id") {
        h.r(client_response(5), response(2, "example.com"));
    }
    SUBCASE("type") {
        h.r(client_response(5), response(1, "example.com", kTypeAAAA));
    }
    SUBCASE("class") {
        DnsMessage m = response(1, "example.com");
        m.questions[0].klass = 3;
        h.r(client_response(5), m);
    }
    SUBCASE("name") {
        h.r(client_response(5), response(1, "example.co"));
    }
    SUBCASE("server") {
        MessageContext rc = client_response(5);
        rc.source = v4(10, 0, 0, 54, 53);
        h.r(rc, response(1, "example.com"));
    }
    SUBCASE("process") {
        MessageContext rc = client_response(5);
        rc.owner = owner(101);
        h.r(rc, response(1, "example.com"));
    }
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].outcome == Outcome::unmatched_response);
    CHECK(h.table.counters().unmatched_responses == 1);
    CHECK(h.table.pending() == 1);
    h.expire(5 * kSecond);
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[1].outcome == Outcome::timeout);
    CHECK(h.out[1].id == 1);
    CHECK(h.table.counters().timeouts == 1);
}

TEST_CASE("an unmatched response carries the response's fields") {
    Harness h;
    MessageContext rc = client_response(42, 9);
    rc.owner = owner(321, "dig");
    h.r(rc, response(55, "late.example", kTypeAAAA, 2));
    REQUIRE(h.out.size() == 1);
    const Transaction& t = h.out[0];
    CHECK(t.outcome == Outcome::unmatched_response);
    CHECK(t.side == Side::client);
    CHECK(t.id == 55);
    CHECK(t.question.name == "late.example");
    CHECK(t.question.type == kTypeAAAA);
    CHECK(t.client == kClient);
    CHECK(t.server == kServer);
    CHECK(t.socket_cookie == 9);
    CHECK(t.owner.pid == 321);
    CHECK(t.owner.comm == "dig");
    CHECK_FALSE(t.query_ns.has_value());
    CHECK(t.response_ns == 42u);
    CHECK_FALSE(t.latency_ns().has_value());
    REQUIRE(t.response.has_value());
    CHECK(t.response->rcode == 2);
    CHECK(t.response->answers.size() == 1);
    CHECK(h.table.counters().responses == 1);
    CHECK(h.table.counters().answered == 0);
    CHECK(h.table.pending() == 0);
}

TEST_CASE("the EDNS extended rcode is reported") {
    Harness h;
    h.q(client_query(0), query(3, "example.com"));
    DnsMessage m = response(3, "example.com");
    m.edns = EdnsInfo{1232, 1, 0, false};  // BADVERS = 16
    h.r(client_response(1), m);
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].response->rcode == 16);
}

TEST_CASE("a retransmitted query is reported once, timed out from its last copy") {
    Harness h(with_timeout(5 * kSecond));
    h.q(client_query(0), query(9, "example.com"));
    h.q(client_query(2 * kSecond), query(9, "example.com"));
    CHECK(h.out.empty());
    CHECK(h.table.pending() == 1);
    CHECK(h.table.counters().queries == 2);
    CHECK(h.table.counters().retransmits == 1);

    SUBCASE("timeout") {
        h.expire(5 * kSecond);
        CHECK(h.out.empty());
        h.expire(7 * kSecond - 1);
        CHECK(h.out.empty());
        h.expire(7 * kSecond);
        REQUIRE(h.out.size() == 1);
        CHECK(h.out[0].outcome == Outcome::timeout);
        CHECK(h.out[0].retransmits == 1);
        CHECK(h.out[0].query_ns == 0u);  // the first copy
        CHECK_FALSE(h.out[0].response_ns.has_value());
        CHECK_FALSE(h.out[0].response.has_value());
    }
    SUBCASE("answered") {
        h.r(client_response(3 * kSecond), response(9, "example.com"));
        REQUIRE(h.out.size() == 1);
        CHECK(h.out[0].outcome == Outcome::answered);
        CHECK(h.out[0].retransmits == 1);
        CHECK(h.out[0].latency_ns() == 3 * kSecond);  // measured from the first copy
    }
    CHECK(h.table.pending() == 0);
}

TEST_CASE("a late UDP answer does not complete the same query's retry over TCP") {
    // A truncated answer sends glibc to TCP with the same id, question and
    // server; the UDP query's other copy gets its truncated answer too.
    Harness h(with_timeout(5 * kSecond));
    DnsMessage truncated = response(77, "example.com");
    truncated.flags |= dns_flag::tc;
    h.q(client_query(0), query(77, "example.com"));
    h.q(client_query(1 * kSecond), query(77, "example.com"));
    h.r(client_response(1100 * kMillisecond), truncated);
    MessageContext tcp_query = client_query(1200 * kMillisecond, 2);
    tcp_query.transport = Transport::tcp;
    h.q(tcp_query, query(77, "example.com"));
    h.r(client_response(1300 * kMillisecond), truncated);
    CHECK(h.table.counters().late_answers == 1);
    MessageContext tcp_answer = client_response(1400 * kMillisecond, 2);
    tcp_answer.transport = Transport::tcp;
    h.r(tcp_answer, response(77, "example.com"));
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[0].transport == Transport::udp);
    CHECK(h.out[1].outcome == Outcome::answered);
    CHECK(h.out[1].transport == Transport::tcp);
    CHECK(h.out[1].latency_ns() == 200 * kMillisecond);
    CHECK((h.out[1].response->flags & dns_flag::tc) == 0);
}

TEST_CASE("the answers to a retransmitted query's other copies are late answers, not unmatched responses") {
    // A long-lived resolver retries on the same socket, and a slow server
    // answers every copy it got.
    Harness h(with_timeout(5 * kSecond));
    h.q(client_query(0), query(9, "example.com"));
    h.retransmitted_then_answered(9, "example.com", 1 * kSecond, 2 * kSecond, 1500 * kMillisecond);
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].outcome == Outcome::answered);
    CHECK(h.out[0].question.name == "example.com");
    CHECK(h.out[0].retransmits == 2);
    CHECK(h.table.pending() == 0);  // answered: nothing waits for a timeout

    SUBCASE("both other copies answered") {
        h.r(client_response(2500 * kMillisecond), response(9, "example.com"));
        h.r(client_response(3500 * kMillisecond), response(9, "example.com"));
        CHECK(h.out.size() == 1);
        CHECK(h.table.counters().late_answers == 2);
        // A fourth answer is more than the copies asked for.
        h.r(client_response(3600 * kMillisecond), response(9, "example.com"));
        REQUIRE(h.out.size() == 2);
        CHECK(h.out[1].outcome == Outcome::unmatched_response);
    }
    SUBCASE("nothing more comes: forgotten at the deadline, without a report") {
        h.expire(7 * kSecond);
        CHECK(h.out.size() == 1);
        CHECK(h.table.counters().timeouts == 0);
        h.r(client_response(8 * kSecond), response(9, "example.com"));
        REQUIRE(h.out.size() == 2);
        CHECK(h.out[1].outcome == Outcome::unmatched_response);
    }
    SUBCASE("asked again after the answer: a new transaction") {
        h.q(client_query(3 * kSecond), query(9, "example.com"));
        CHECK(h.table.pending() == 1);
        h.r(client_response(3100 * kMillisecond), response(9, "example.com"));
        REQUIRE(h.out.size() == 2);
        CHECK(h.out[1].outcome == Outcome::answered);
        CHECK(h.out[1].retransmits == 0);
        CHECK(h.out[1].latency_ns() == 100 * kMillisecond);
        CHECK(h.table.counters().late_answers == 0);
    }
    SUBCASE("stopping counts no answered query as unfinished") {
        CHECK(h.table.drop_pending() == 0);
    }
    const auto unmatched = std::count_if(h.out.begin(), h.out.end(),
                                         [](const Transaction& t) { return t.outcome == Outcome::unmatched_response; });
    CHECK(h.table.counters().unmatched_responses == static_cast<uint64_t>(unmatched));
}

TEST_CASE("an answered query kept for late answers is too old for one after its deadline, expired or not") {
    Harness h(with_timeout(5 * kSecond));
    h.retransmitted_then_answered(9, "example.com", 0, 1 * kSecond, 1500 * kMillisecond);
    // No expiry ran in between (the daemon's tick sleeps while no query waits).
    h.r(client_response(60 * kSecond), response(9, "example.com"));
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[1].outcome == Outcome::unmatched_response);
    CHECK(h.table.counters().late_answers == 0);
}

TEST_CASE("answered queries kept for late answers neither take the room of waiting ones nor grow without bound") {
    Harness h(one_place());
    h.retransmitted_then_answered(1, "a.example", 0, 10, 20);
    // The table's one place is free again for a query that waits.
    h.q(client_query(30), query(2, "b.example"));
    CHECK(h.table.pending() == 1);
    CHECK(h.table.counters().lost_table_full == 0);
    h.r(client_response(40), response(2, "b.example"));

    SUBCASE("no more kept answered queries than max_pending") {
        h.retransmitted_then_answered(3, "c.example", 50, 60, 70);
        h.r(client_response(80), response(3, "c.example"));  // c was not kept
        CHECK(h.out.back().outcome == Outcome::unmatched_response);
        h.r(client_response(90), response(1, "a.example"));  // a was
        CHECK(h.table.counters().late_answers == 1);
    }
    SUBCASE("drop_pending forgets the kept ones too") {
        CHECK(h.table.drop_pending() == 0);
        h.retransmitted_then_answered(3, "c.example", 50, 60, 70);
        h.r(client_response(80), response(3, "c.example"));
        CHECK(h.table.counters().late_answers == 1);
    }
}

TEST_CASE("the sink may ask the same query again while an answered query is being kept") {
    TransactionTableLimits limits;
    limits.timeout_ns = 5 * kSecond;
    TransactionTable table(limits);
    std::vector<Transaction> out;
    TransactionTable::Sink sink = [&](Transaction&& t) {
        out.push_back(std::move(t));
        if (out.size() == 1)
            table.on_query(client_query(2 * kSecond), query(9, "example.com"));  // retires the kept entry
    };
    table.on_query(client_query(0), query(9, "example.com"));
    table.on_query(client_query(1 * kSecond), query(9, "example.com"));
    DnsMessage answer = response(9, "example.com");
    table.on_response(client_response(1500 * kMillisecond), answer, sink);
    REQUIRE(out.size() == 1);
    CHECK(table.pending() == 1);
    answer = response(9, "example.com");
    table.on_response(client_response(2100 * kMillisecond), answer, sink);
    REQUIRE(out.size() == 2);
    CHECK(out[1].outcome == Outcome::answered);
    CHECK(out[1].retransmits == 0);
    CHECK(table.pending() == 0);
    table.expire(10 * kSecond, sink);
    CHECK(out.size() == 2);
}

TEST_CASE("a query answered without retransmission is forgotten at once") {
    Harness h;
    h.q(client_query(0), query(9, "example.com"));
    h.r(client_response(10), response(9, "example.com"));
    h.r(client_response(20), response(9, "example.com"));
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[1].outcome == Outcome::unmatched_response);
    CHECK(h.table.counters().late_answers == 0);
}

TEST_CASE("a timeout fires exactly at the deadline and not before") {
    TransactionTableLimits limits;
    limits.timeout_ns = 5000;
    Harness h(limits);
    h.q(client_query(1000), query(1, "a.example"));
    h.expire(5999);
    CHECK(h.out.empty());
    CHECK(h.table.pending() == 1);
    h.expire(6000);
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].outcome == Outcome::timeout);
    CHECK(h.out[0].query_ns == 1000u);
    CHECK(h.out[0].owner.pid == 100);
    CHECK(h.out[0].client == kClient);
    CHECK(h.out[0].server == kServer);
    CHECK(h.table.pending() == 0);
    CHECK(h.table.counters().timeouts == 1);
    // A late response is then unmatched.
    h.r(client_response(7000), response(1, "a.example"));
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[1].outcome == Outcome::unmatched_response);
}

TEST_CASE("a full table counts the query as lost") {
    TransactionTableLimits limits;
    limits.max_pending = 2;
    Harness h(limits);
    h.q(client_query(0), query(1, "a.example"));
    h.q(client_query(0), query(2, "a.example"));
    h.q(client_query(0), query(3, "a.example"));
    CHECK(h.out.empty());
    CHECK(h.table.pending() == 2);
    CHECK(h.table.counters().lost_table_full == 1);
    CHECK(h.table.counters().queries == 3);
    // A retransmission of a tracked query is not a new entry.
    h.q(client_query(1), query(2, "a.example"));
    CHECK(h.table.counters().lost_table_full == 1);
    CHECK(h.table.counters().retransmits == 1);
    // The response to the lost query is unmatched; the others still match.
    h.r(client_response(2), response(3, "a.example"));
    h.r(client_response(2), response(1, "a.example"));
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[0].outcome == Outcome::unmatched_response);
    CHECK(h.out[1].outcome == Outcome::answered);
    // Room again.
    h.q(client_query(3), query(4, "a.example"));
    CHECK(h.table.pending() == 2);
    CHECK(h.table.counters().lost_table_full == 1);
}

TEST_CASE("A and AAAA with the same id on one socket are kept apart") {
    Harness h;
    h.q(client_query(0), query(77, "example.com", kTypeA));
    h.q(client_query(1), query(77, "example.com", kTypeAAAA));
    CHECK(h.table.pending() == 2);
    CHECK(h.table.counters().retransmits == 0);
    h.r(client_response(10), response(77, "example.com", kTypeAAAA));
    h.r(client_response(20), response(77, "example.com", kTypeA));
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[0].question.type == kTypeAAAA);
    CHECK(h.out[0].latency_ns() == 9u);
    CHECK(h.out[1].question.type == kTypeA);
    CHECK(h.out[1].latency_ns() == 20u);
    CHECK(h.table.pending() == 0);
}

TEST_CASE("a retry from a fresh socket of the same process is one transaction") {
    // dig and many stub resolvers open a new socket (new port) per try.
    Harness h;
    const Endpoint second_port = v4(10, 0, 0, 1, 40001);
    h.q(client_query(0, 1), query(5, "example.com"));
    h.q(client_query(1 * kSecond, 2, second_port), query(5, "example.com"));
    CHECK(h.table.pending() == 1);
    CHECK(h.table.counters().retransmits == 1);
    h.r(client_response(1 * kSecond + 10, 2, second_port), response(5, "example.com"));
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].outcome == Outcome::answered);
    CHECK(h.out[0].retransmits == 1);
    CHECK(h.out[0].socket_cookie == 2);
    CHECK(h.out[0].client == second_port);
    CHECK(h.out[0].latency_ns() == 1 * kSecond + 10);  // from the first try: what the user waited
}

TEST_CASE("two processes with the same id are kept apart") {
    Harness h;
    h.q(context(0, Direction::egress, kClient, kServer, 1, 100), query(5, "example.com"));
    h.q(context(4, Direction::egress, v4(10, 0, 0, 1, 40001), kServer, 2, 200), query(5, "example.com"));
    CHECK(h.table.pending() == 2);
    h.r(context(10, Direction::ingress, kServer, v4(10, 0, 0, 1, 40001), 2, 200), response(5, "example.com"));
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].owner.pid == 200);
    CHECK(h.out[0].latency_ns() == 6u);
    h.r(context(12, Direction::ingress, kServer, kClient, 1, 100), response(5, "example.com"));
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[1].owner.pid == 100);
    CHECK(h.out[1].latency_ns() == 12u);
}

TEST_CASE("sockets of unknown owners with the same id are kept apart") {
    Harness h;
    h.q(context(0, Direction::egress, kClient, kServer, 1, 0), query(5, "example.com"));
    h.q(context(4, Direction::egress, kClient, kServer, 2, 0), query(5, "example.com"));
    CHECK(h.table.pending() == 2);
    h.r(context(10, Direction::ingress, kServer, kClient, 2, 0), response(5, "example.com"));
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].socket_cookie == 2);
    CHECK(h.out[0].latency_ns() == 6u);
    h.r(context(12, Direction::ingress, kServer, kClient, 1, 0), response(5, "example.com"));
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[1].socket_cookie == 1);
    CHECK(h.out[1].latency_ns() == 12u);
}

TEST_CASE("a server socket keeps two clients with the same id apart") {
    Harness h;
    const Endpoint other = v4(10, 0, 0, 2, 40000);
    h.q(context(0, Direction::ingress, kClient, kServer), query(5, "example.com"));
    h.q(context(3, Direction::ingress, other, kServer), query(5, "example.com"));
    CHECK(h.table.pending() == 2);
    CHECK(h.table.counters().retransmits == 0);
    h.r(context(10, Direction::egress, kServer, other), response(5, "example.com"));
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].side == Side::server);
    CHECK(h.out[0].client == other);
    CHECK(h.out[0].latency_ns() == 7u);
    h.r(context(11, Direction::egress, kServer, kClient), response(5, "example.com"));
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[1].client == kClient);
    CHECK(h.out[1].latency_ns() == 11u);
}

TEST_CASE("IPv4 and IPv6 endpoints with the same bytes are kept apart") {
    Harness h;
    Endpoint v6 = kServer;
    v6.ipv6 = true;
    h.q(client_query(0, 1), query(5, "example.com"));
    h.q(context(0, Direction::egress, kClient, v6), query(5, "example.com"));  // same process, other server
    CHECK(h.table.pending() == 2);
    Endpoint v6_client = kClient;
    v6_client.ipv6 = true;
    h.q(context(0, Direction::egress, kClient, kServer, 7, 0), query(5, "example.com"));  // unknown owner
    h.q(context(0, Direction::egress, v6_client, kServer, 7, 0), query(5, "example.com"));
    CHECK(h.table.pending() == 4);
}

TEST_CASE("timeouts are delivered in deadline order") {
    TransactionTableLimits limits;
    limits.timeout_ns = 100;
    Harness h(limits);
    h.q(client_query(10), query(1, "one.example"));
    h.q(client_query(20), query(2, "two.example"));
    h.q(client_query(15), query(3, "three.example"));  // slightly out of order
    h.q(client_query(30), query(4, "four.example"));
    h.q(client_query(40), query(1, "one.example"));  // retransmit: deadline 140
    h.expire(115);                                   // one.example was due at 110 before its retransmission
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].id == 3);
    h.expire(1000);
    REQUIRE(h.out.size() == 4);
    CHECK(h.out[1].id == 2);
    CHECK(h.out[2].id == 4);
    CHECK(h.out[3].id == 1);
    CHECK(h.out[3].retransmits == 1);
    CHECK(h.table.pending() == 0);
}

TEST_CASE("a retransmission seen out of order does not pull the deadline back") {
    TransactionTableLimits limits;
    limits.timeout_ns = 100;
    Harness h(limits);
    h.q(client_query(50), query(1, "a.example"));
    h.q(client_query(40), query(1, "a.example"));
    h.expire(149);
    CHECK(h.out.empty());
    h.expire(150);
    CHECK(h.out.size() == 1);
}

TEST_CASE("drop_pending forgets every pending query") {
    Harness h;
    h.q(client_query(0), query(1, "a.example"));
    h.q(client_query(0), query(2, "a.example"));
    h.q(client_query(0), query(3, "a.example"));
    CHECK(h.table.drop_pending() == 3);
    CHECK(h.table.pending() == 0);
    h.expire(1000 * kSecond);
    CHECK(h.out.empty());
    h.r(client_response(1), response(1, "a.example"));
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].outcome == Outcome::unmatched_response);
    CHECK(h.table.drop_pending() == 0);
    // Still usable afterwards.
    h.q(client_query(5), query(1, "a.example"));
    h.r(client_response(8), response(1, "a.example"));
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[1].outcome == Outcome::answered);
}

TEST_CASE("owner falls back to the response's when the query's was unknown") {
    Harness h;
    MessageContext qc = client_query(0);
    MessageContext rc = client_response(1);
    rc.owner = owner(4242, "resolver");
    SUBCASE("query owner unknown") {
        qc.owner = SocketOwner{};
        h.q(qc, query(1, "a.example"));
        h.r(rc, response(1, "a.example"));
        REQUIRE(h.out.size() == 1);
        CHECK(h.out[0].owner.pid == 4242);
        CHECK(h.out[0].owner.comm == "resolver");
    }
    SUBCASE("query owner known") {
        rc.owner = owner(100, "resolver");  // the same socket: the same process
        h.q(qc, query(1, "a.example"));
        h.r(rc, response(1, "a.example"));
        REQUIRE(h.out.size() == 1);
        CHECK(h.out[0].owner.pid == 100);
    }
    SUBCASE("both unknown") {
        qc.owner = SocketOwner{};
        rc.owner = SocketOwner{};
        h.q(qc, query(1, "a.example"));
        h.r(rc, response(1, "a.example"));
        REQUIRE(h.out.size() == 1);
        CHECK(h.out[0].owner.pid == 0);
    }
}

TEST_CASE("a retransmission fills in an unknown owner") {
    Harness h;
    MessageContext qc = client_query(0);
    qc.owner = SocketOwner{};
    h.q(qc, query(1, "a.example"));
    h.q(client_query(1), query(1, "a.example"));
    h.expire(100 * kSecond);
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].owner.pid == 100);
}

TEST_CASE("a response whose owner the kernel forgot matches its query by socket") {
    // The socket map is an LRU: under socket churn it may lose a socket's
    // owner between the query and the response.
    Harness h;
    h.q(context(0, Direction::egress, kClient, kServer, 7, 100), query(5, "Example.com"));
    SUBCASE("same socket, id and question: answered, with the query's owner") {
        h.r(context(10, Direction::ingress, kServer, kClient, 7, 0), response(5, "example.COM"));
        REQUIRE(h.out.size() == 1);
        CHECK(h.out[0].outcome == Outcome::answered);
        CHECK(h.out[0].owner.pid == 100);
        CHECK(h.out[0].owner.comm == "app");
        CHECK(h.out[0].socket_cookie == 7);
        CHECK(h.out[0].latency_ns() == 10u);
        CHECK(h.table.counters().answered == 1);
        CHECK(h.table.counters().unmatched_responses == 0);
        CHECK(h.table.pending() == 0);
        h.expire(100 * kSecond);
        CHECK(h.out.size() == 1);
        CHECK(h.table.counters().timeouts == 0);
    }
    SUBCASE("another socket does not match") {
        h.r(context(10, Direction::ingress, kServer, kClient, 8, 0), response(5, "example.com"));
        REQUIRE(h.out.size() == 1);
        CHECK(h.out[0].outcome == Outcome::unmatched_response);
        CHECK(h.table.pending() == 1);
    }
    SUBCASE("another id does not match") {
        h.r(context(10, Direction::ingress, kServer, kClient, 7, 0), response(6, "example.com"));
        REQUIRE(h.out.size() == 1);
        CHECK(h.out[0].outcome == Outcome::unmatched_response);
        CHECK(h.table.pending() == 1);
    }
    SUBCASE("another question does not match") {
        h.r(context(10, Direction::ingress, kServer, kClient, 7, 0), response(5, "example.com", kTypeAAAA));
        REQUIRE(h.out.size() == 1);
        CHECK(h.out[0].outcome == Outcome::unmatched_response);
        CHECK(h.table.pending() == 1);
    }
    SUBCASE("another server does not match") {
        h.r(context(10, Direction::ingress, v4(10, 0, 0, 54, 53), kClient, 7, 0), response(5, "example.com"));
        REQUIRE(h.out.size() == 1);
        CHECK(h.out[0].outcome == Outcome::unmatched_response);
        CHECK(h.table.pending() == 1);
    }
}

TEST_CASE("a query copy whose owner the kernel forgot is a retransmission on the same socket") {
    Harness h;
    h.q(context(0, Direction::egress, kClient, kServer, 7, 100), query(5, "example.com"));
    h.q(context(1 * kSecond, Direction::egress, kClient, kServer, 7, 0), query(5, "example.com"));
    CHECK(h.table.pending() == 1);
    CHECK(h.table.counters().retransmits == 1);
    h.r(context(1 * kSecond + 4, Direction::ingress, kServer, kClient, 7, 0), response(5, "example.com"));
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].outcome == Outcome::answered);
    CHECK(h.out[0].owner.pid == 100);
    CHECK(h.out[0].retransmits == 1);
    CHECK(h.table.pending() == 0);
}

TEST_CASE("each table hashes from a random seed of its own, and matches alike") {
    Harness a;
    Harness b;
    // Two equal 64-bit draws, or a zero one, have a chance of about 2^-63.
    CHECK(a.table.hash_seed() != 0);
    CHECK(b.table.hash_seed() != 0);
    CHECK(a.table.hash_seed() != b.table.hash_seed());
    for (Harness* h : {&a, &b}) {
        for (uint16_t id = 0; id < 200; ++id)
            h->q(client_query(id, 1 + id % 3), query(id, "host" + std::to_string(id % 7) + ".example"));
        for (uint16_t id = 0; id < 200; id += 2)
            h->r(client_response(1000, 1 + id % 3), response(id, "HOST" + std::to_string(id % 7) + ".example"));
        h->expire(100 * kSecond);
    }
    for (const Harness* h : {&a, &b}) {
        CHECK(h->table.counters().answered == 100);
        CHECK(h->table.counters().timeouts == 100);
        CHECK(h->table.counters().unmatched_responses == 0);
        CHECK(h->table.pending() == 0);
    }
}

TEST_CASE("messages without a question match each other") {
    Harness h;
    DnsMessage q;
    q.id = 11;
    DnsMessage r;
    r.id = 11;
    r.flags = dns_flag::qr | 1;  // FORMERR
    h.q(client_query(0), q);
    h.r(client_response(3), r);
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].outcome == Outcome::answered);
    CHECK(h.out[0].question.name.empty());
    CHECK(h.out[0].response->rcode == 1);
}

TEST_CASE("an answer without a question section matches the query with its id on its socket") {
    Harness h;
    h.q(client_query(1000), query(21, "other.example"));
    h.q(client_query(2000), query(22, "formerr.example", kTypeAAAA));
    DnsMessage formerr;
    formerr.id = 22;
    formerr.flags = static_cast<uint16_t>(dns_flag::qr | 1);  // FORMERR, no question
    h.r(client_response(3000), formerr);
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].outcome == Outcome::answered);
    CHECK(h.out[0].question.name == "formerr.example");
    CHECK(h.out[0].question.type == kTypeAAAA);
    CHECK(h.out[0].response->rcode == 1);
    CHECK(h.table.pending() == 1);
    // On another socket it is no one's.
    formerr.id = 21;
    h.r(client_response(4000, 2), formerr);
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[1].outcome == Outcome::unmatched_response);
}

TEST_CASE("an answer after its query's deadline is a timeout and an unmatched response, swept or not") {
    Harness h(with_timeout(5 * kSecond));
    h.q(client_query(0), query(31, "slow.example"));
    // No sweep ran between the deadline and the answer.
    h.r(client_response(5400 * kMillisecond), response(31, "slow.example"));
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[0].outcome == Outcome::timeout);
    CHECK(h.out[1].outcome == Outcome::unmatched_response);
    // Just before the deadline it is an answer.
    h.q(client_query(10 * kSecond), query(32, "quick.example"));
    h.r(client_response(15 * kSecond - 1), response(32, "quick.example"));
    REQUIRE(h.out.size() == 3);
    CHECK(h.out[2].outcome == Outcome::answered);
}

TEST_CASE("recycled entries start fresh") {
    TransactionTableLimits limits;
    limits.timeout_ns = 100;
    Harness h(limits);
    // Churn through more entries than are kept for reuse.
    for (uint32_t i = 0; i < 3000; ++i) {
        const uint16_t id = static_cast<uint16_t>(i);
        const std::string name = "host-" + std::to_string(i) + ".a-rather-long-domain-name.example";
        h.q(client_query(i), query(id, name));
        if (i % 3 == 0)
            h.q(client_query(i), query(id, name));
        if (i % 2 == 0)
            h.r(client_response(i + 1), response(id, name));
        h.expire(i);
    }
    h.expire(1'000'000);
    REQUIRE(h.out.size() == 3000);
    CHECK(h.table.pending() == 0);
    const auto& c = h.table.counters();
    CHECK(c.queries == 4000);
    CHECK(c.retransmits == 1000);
    CHECK(c.answered == 1500);
    CHECK(c.timeouts == 1500);
    for (const Transaction& t : h.out) {
        const uint32_t i = t.id;
        CHECK(t.question.name == "host-" + std::to_string(i) + ".a-rather-long-domain-name.example");
        CHECK(t.retransmits == (i % 3 == 0 ? 1u : 0u));
        CHECK(t.outcome == (i % 2 == 0 ? Outcome::answered : Outcome::timeout));
        CHECK(t.query_ns == uint64_t{i});
    }
}

TEST_CASE("the sink may call back into the table") {
    TransactionTableLimits limits;
    limits.timeout_ns = 10;
    TransactionTable table(limits);
    int reported = 0;
    TransactionTable::Sink sink = [&](Transaction&&) {
        ++reported;
        if (reported == 1)
            table.on_query(client_query(100), query(2, "b.example"));
    };
    table.on_query(client_query(0), query(1, "a.example"));
    table.expire(10, sink);
    CHECK(reported == 1);
    CHECK(table.pending() == 1);
    table.expire(110, sink);
    CHECK(reported == 2);
}

TEST_CASE("answers are lent to the report: a sink that reads gives them back, one that keeps takes them") {
    TransactionTable table(TransactionTableLimits{});
    std::vector<std::string> seen;
    TransactionTable::Sink reader = [&seen](Transaction&& t) {
        for (const DnsRecord& answer : t.response->answers)
            seen.push_back(answer.data);
    };
    table.on_query(client_query(1000), query(1, "example.com"));
    DnsMessage message = response(1, "example.com");
    message.answers.push_back({"example.com", kTypeA, kClassIN, 300, "192.0.2.2"});
    const DnsRecord* storage = message.answers.data();
    table.on_response(client_response(1500), message, reader);
    CHECK(seen == std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
    CHECK(message.answers.data() == storage);  // the same buffer serves the next parse

    std::vector<Transaction> kept;
    TransactionTable::Sink keeper = [&kept](Transaction&& t) { kept.push_back(std::move(t)); };
    table.on_query(client_query(2000), query(2, "example.com"));
    DnsMessage second = response(2, "example.com");
    table.on_response(client_response(2500), second, keeper);
    REQUIRE(kept.size() == 1);
    REQUIRE(kept[0].response->answers.size() == 1);
    CHECK(kept[0].response->answers[0].data == "192.0.2.1");

    // An unmatched response lends its answers the same way.
    DnsMessage stray = response(3, "stray.example");
    table.on_response(client_response(3000), stray, reader);
    CHECK(seen.back() == "192.0.2.1");
    CHECK(stray.answers.size() == 1);
}

TEST_CASE("names of outcomes and sides") {
    CHECK(to_string(Outcome::answered) == "answered");
    CHECK(to_string(Outcome::timeout) == "timeout");
    CHECK(to_string(Outcome::unmatched_response) == "unmatched-response");
    CHECK(to_string(Side::client) == "client");
    CHECK(to_string(Side::server) == "server");
}

namespace {

constexpr uint16_t kTypeSOA = 6;
constexpr uint16_t kTypeIXFR = 251;
constexpr uint16_t kTypeAXFR = 252;

MessageContext over_tcp(MessageContext c) {
    c.transport = Transport::tcp;
    return c;
}

// A later message of a zone transfer: the query's id, no question (RFC
// 5936 2.2.1 lets a server leave it out after the first message).
DnsMessage transfer_message(uint16_t id) {
    DnsMessage m;
    m.id = id;
    m.flags = static_cast<uint16_t>(dns_flag::qr | dns_flag::aa);
    m.answers.push_back({"www.example.com", kTypeA, kClassIN, 300, "192.0.2.7"});
    m.answer_count = 1;
    return m;
}

}  // namespace

TEST_CASE_TEMPLATE("a zone transfer over TCP is one transaction, whatever number of messages answers it", Type,
                   std::integral_constant<uint16_t, kTypeAXFR>, std::integral_constant<uint16_t, kTypeIXFR>) {
    Harness h(with_timeout(5 * kSecond));
    const uint16_t type = Type::value;
    h.q(over_tcp(client_query(0)), query(77, "example.com", type));
    h.r(over_tcp(client_response(10 * kMillisecond)), response(77, "example.com", type));
    REQUIRE(h.out.size() == 1);
    CHECK(h.out[0].outcome == Outcome::answered);
    CHECK(h.out[0].latency_ns() == 10 * kMillisecond);
    CHECK(h.table.pending() == 0);  // answered: nothing waits for a timeout

    SUBCASE("later messages, with the question or without, are counted, not reported") {
        h.r(over_tcp(client_response(20 * kMillisecond)), response(77, "example.com", type));
        h.r(over_tcp(client_response(30 * kMillisecond)), transfer_message(77));
        CHECK(h.out.size() == 1);
        CHECK(h.table.counters().transfer_messages == 2);
        CHECK(h.table.counters().unmatched_responses == 0);
    }
    SUBCASE("each message gives the stream another timeout, so a long transfer stays one") {
        for (uint64_t at = 4 * kSecond; at <= 20 * kSecond; at += 4 * kSecond) {
            h.expire(at);
            h.r(over_tcp(client_response(at)), transfer_message(77));
        }
        CHECK(h.out.size() == 1);
        CHECK(h.table.counters().transfer_messages == 5);
        CHECK(h.table.counters().timeouts == 0);
    }
    SUBCASE("a message after the stream fell silent for a timeout is a response to nothing seen") {
        h.r(over_tcp(client_response(2 * kSecond)), transfer_message(77));
        h.expire(7 * kSecond + 1);
        CHECK(h.out.size() == 1);
        CHECK(h.table.counters().timeouts == 0);
        h.r(over_tcp(client_response(8 * kSecond)), transfer_message(77));
        REQUIRE(h.out.size() == 2);
        CHECK(h.out[1].outcome == Outcome::unmatched_response);
        CHECK(h.table.counters().transfer_messages == 1);
    }
    SUBCASE("another message id on the connection is not part of the transfer") {
        h.r(over_tcp(client_response(20 * kMillisecond)), transfer_message(78));
        REQUIRE(h.out.size() == 2);
        CHECK(h.out[1].outcome == Outcome::unmatched_response);
    }
    SUBCASE("the transfer asked again ends the first and starts a second") {
        h.q(over_tcp(client_query(1 * kSecond)), query(77, "example.com", type));
        CHECK(h.table.pending() == 1);
        h.r(over_tcp(client_response(1100 * kMillisecond)), response(77, "example.com", type));
        REQUIRE(h.out.size() == 2);
        CHECK(h.out[1].outcome == Outcome::answered);
        CHECK(h.out[1].latency_ns() == 100 * kMillisecond);
    }
    SUBCASE("stopping counts no transfer as unfinished") {
        CHECK(h.table.drop_pending() == 0);
    }
}

TEST_CASE("only a transfer over TCP that began well waits for more messages") {
    Harness h(with_timeout(5 * kSecond));
    SUBCASE("IXFR over UDP is answered by one datagram") {
        h.q(client_query(0), query(5, "example.com", kTypeIXFR));
        h.r(client_response(10), response(5, "example.com", kTypeIXFR));
    }
    SUBCASE("a refused transfer ends with its first message") {
        h.q(over_tcp(client_query(0)), query(5, "example.com", kTypeAXFR));
        h.r(over_tcp(client_response(10)), response(5, "example.com", kTypeAXFR, 5));
    }
    SUBCASE("other types over TCP") {
        h.q(over_tcp(client_query(0)), query(5, "example.com", kTypeSOA));
        h.r(over_tcp(client_response(10)), response(5, "example.com", kTypeSOA));
    }
    h.r(over_tcp(client_response(20)), transfer_message(5));
    REQUIRE(h.out.size() == 2);
    CHECK(h.out[1].outcome == Outcome::unmatched_response);
    CHECK(h.table.counters().transfer_messages == 0);
}

TEST_CASE("transfers waiting for their stream share the bound of kept answered queries") {
    Harness h(one_place());
    h.q(over_tcp(client_query(0)), query(1, "a.example", kTypeAXFR));
    h.r(over_tcp(client_response(10)), response(1, "a.example", kTypeAXFR));
    h.q(over_tcp(client_query(20)), query(2, "b.example", kTypeAXFR));
    CHECK(h.table.pending() == 1);  // the waiting transfer took no place of a waiting query
    h.r(over_tcp(client_response(30)), response(2, "b.example", kTypeAXFR));
    h.r(over_tcp(client_response(40)), transfer_message(2));  // b was not kept
    CHECK(h.out.back().outcome == Outcome::unmatched_response);
    h.r(over_tcp(client_response(50)), transfer_message(1));  // a was
    CHECK(h.table.counters().transfer_messages == 1);
}
