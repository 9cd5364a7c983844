#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "tcp_reassembly.hpp"

using namespace dnsvis;

namespace {

using Bytes = std::vector<uint8_t>;

// A message body whose bytes identify it, so a mix-up cannot go unnoticed.
// A message of `size` bytes, a pattern that `tag` sets apart, with a DNS
// header from 12 bytes on (with a question from 17, when one fits): a
// guessed message start is judged by it.
Bytes body(size_t size, uint8_t tag) {
    Bytes b(size);
    for (size_t i = 0; i < size; ++i)
        b[i] = static_cast<uint8_t>(tag + i * 7);
    if (size >= 12) {
        const uint8_t questions = size >= 17 ? 1 : 0;
        const uint8_t header[10] = {0x01, 0x00, 0, questions, 0, 0, 0, 0, 0, 0};  // after the id: RD
        std::copy(std::begin(header), std::end(header), b.begin() + 2);
    }
    return b;
}

Bytes framed(const Bytes& message) {
    Bytes out(message.size() + 2);
    out[0] = static_cast<uint8_t>(message.size() >> 8);
    out[1] = static_cast<uint8_t>(message.size());
    std::copy(message.begin(), message.end(), out.begin() + 2);
    return out;
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

Bytes slice(const Bytes& b, size_t from, size_t to) {
    return Bytes(b.begin() + static_cast<ptrdiff_t>(from), b.begin() + static_cast<ptrdiff_t>(to));
}

TcpFlowKey flow_key(uint64_t cookie, uint16_t source_port = 40000) {
    TcpFlowKey k;
    k.socket_cookie = cookie;
    k.source.address = {10, 0, 0, 1};
    k.source.port = source_port;
    k.destination.address = {10, 0, 0, 53};
    k.destination.port = 53;
    return k;
}

// Where flow_key(cookie) segments are seen at time `now`.
MessageContext seen_at(const TcpFlowKey& key, uint64_t now) {
    MessageContext context;
    context.timestamp_ns = now;
    context.socket_cookie = key.socket_cookie;
    context.transport = Transport::tcp;
    context.source = key.source;
    context.destination = key.destination;
    return context;
}

struct Harness {
    explicit Harness(TcpReassemblyLimits limits = {}) : r(limits) {}

    TcpReassembler r;
    std::vector<Bytes> got;  // whole messages
    std::vector<const uint8_t*> pointers;
    std::vector<MessageContext> seen;  // where each message's last segment was seen
    // Beginnings of messages whose rest was cut or lost, kept apart so that
    // `got` is exactly the messages that came whole.
    struct Partial {
        Bytes bytes;
        MessageTail tail;
        MessageContext seen;
    };
    std::vector<Partial> partials;
    bool take_partials = true;  // what the sink answers for a partial message

    TcpReassembler::MessageSink sink() {
        return [this](const MessageContext& context, std::span<const uint8_t> m, MessageTail tail) {
            if (tail != MessageTail::whole) {
                if (take_partials)
                    partials.push_back({Bytes(m.begin(), m.end()), tail, context});
                return take_partials;
            }
            got.emplace_back(m.begin(), m.end());
            pointers.push_back(m.data());
            seen.push_back(context);
            return true;
        };
    }
    // Opens the flow with a SYN, so that its stream starts exactly at
    // data_seq (a flow first seen mid-stream only guesses where a message
    // starts).
    void syn(uint32_t data_seq = 0, const TcpFlowKey& key = flow_key(1)) {
        feed(key, 0, data_seq - 1, tcp_flag::syn, {});
    }
    void expire(uint64_t now) { r.expire(now, sink()); }

    void feed(const TcpFlowKey& key, uint64_t now, uint32_t seq, uint8_t flags, const Bytes& payload) {
        feed_cut(key, now, seq, flags, static_cast<uint32_t>(payload.size()), payload);
    }
    void feed(uint32_t seq, const Bytes& payload, uint8_t flags = 0, uint64_t now = 1000) {
        feed(flow_key(1), now, seq, flags, payload);
    }
    // `payload` is what was captured; `wire_len` is what was on the wire.
    void feed_cut(const TcpFlowKey& key, uint64_t now, uint32_t seq, uint8_t flags, uint32_t wire_len,
                  const Bytes& payload, Direction direction = Direction::egress) {
        MessageContext seen = seen_at(key, now);
        seen.direction = direction;
        r.feed(seen, seq, flags, wire_len, std::span<const uint8_t>(payload), sink());
    }
};

}  // namespace

TEST_CASE("two messages in one segment are delivered in order, straight from the segment") {
    Harness h;
    const Bytes a = body(30, 1), b = body(45, 2);
    const Bytes segment = cat({framed(a), framed(b)});
    h.feed(100, segment);
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[0] == a);
    CHECK(h.got[1] == b);
    // No copy: the spans point into the segment.
    CHECK(h.pointers[0] == segment.data() + 2);
    CHECK(h.pointers[1] == segment.data() + 2 + a.size() + 2);
    CHECK(h.r.counters().messages == 2);
    CHECK(h.r.counters().lost_segments == 0);
    CHECK(h.r.flow_count() == 1);
    CHECK(h.r.buffered_bytes() == 0);
}

TEST_CASE("one message over three segments") {
    Harness h;
    const Bytes m = body(300, 3);
    const Bytes wire = framed(m);
    h.feed(1, slice(wire, 0, 100));
    CHECK(h.got.empty());
    CHECK(h.r.buffered_bytes() > 0);
    h.feed(101, slice(wire, 100, 200));
    CHECK(h.got.empty());
    h.feed(201, slice(wire, 200, wire.size()));
    REQUIRE(h.got.size() == 1);
    CHECK(h.got[0] == m);
    CHECK(h.r.buffered_bytes() == 0);
    CHECK(h.r.counters().lost_segments == 0);
}

TEST_CASE("length prefix split 1 + 1 byte") {
    Harness h;
    const Bytes m = body(20, 4), next = body(10, 5);
    const Bytes wire = cat({framed(m), framed(next)});
    h.feed(500, slice(wire, 0, 1));
    h.feed(501, slice(wire, 1, 2));
    CHECK(h.got.empty());
    h.feed(502, slice(wire, 2, wire.size()));
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[0] == m);
    CHECK(h.got[1] == next);
}

TEST_CASE("a message ending inside a segment that starts the next one") {
    Harness h;
    const Bytes a = body(50, 6), b = body(60, 7), c = body(5, 8);
    const Bytes wire = cat({framed(a), framed(b), framed(c)});
    h.feed(0, slice(wire, 0, 30));
    h.feed(30, slice(wire, 30, 80));  // ends a, starts b
    h.feed(80, slice(wire, 80, wire.size()));
    REQUIRE(h.got.size() == 3);
    CHECK(h.got[0] == a);
    CHECK(h.got[1] == b);
    CHECK(h.got[2] == c);
}

TEST_CASE("retransmitted segments are not delivered twice") {
    Harness h;
    const Bytes a = body(40, 9), b = body(100, 10);
    const Bytes first = framed(a);
    const Bytes wire_b = framed(b);
    h.feed(1000, first);
    h.feed(1000, first);
    CHECK(h.got.size() == 1);

    // Retransmission of the first half of a message being assembled.
    const uint32_t seq_b = 1000 + static_cast<uint32_t>(first.size());
    h.feed(seq_b, slice(wire_b, 0, 50));
    h.feed(seq_b, slice(wire_b, 0, 50));
    h.feed(seq_b + 50, slice(wire_b, 50, wire_b.size()));
    h.feed(seq_b + 50, slice(wire_b, 50, wire_b.size()));
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[1] == b);
    CHECK(h.r.counters().lost_segments == 0);
}

TEST_CASE("overlapping segments: already-seen bytes are skipped") {
    Harness h;
    const Bytes a = body(80, 11), b = body(20, 12);
    const Bytes wire = cat({framed(a), framed(b)});
    h.feed(7, slice(wire, 0, 40));
    // Repacketised retransmission: overlaps 20 old bytes and carries 50 new.
    h.feed(27, slice(wire, 20, 90));
    h.feed(97, slice(wire, 90, wire.size()));
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[0] == a);
    CHECK(h.got[1] == b);
    CHECK(h.r.counters().lost_segments == 0);
}

TEST_CASE("a segment the network lost fills its gap when the retransmission comes") {
    // Linux retransmits a lost segment after its RTO: 200 ms plus a round
    // trip at least. What waits behind the gap must still be there then.
    Harness h;
    const Bytes a = body(30, 17), b = body(80, 18);
    const Bytes wire = cat({framed(a), framed(b)});
    h.feed(0, slice(wire, 0, 50), 0, 1'000'000);           // a and the start of b
    h.feed(90, slice(wire, 90, wire.size()), 0, 2'000'000);  // the end of b, ahead of the lost middle
    h.expire(2'000'000 + 600'000'000);                      // a WAN RTO later, nothing given up
    CHECK(h.got.size() == 1);
    CHECK(h.r.counters().lost_segments == 0);
    h.feed(50, slice(wire, 50, 90), 0, 2'000'000 + 650'000'000);  // the retransmission
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[1] == b);
    CHECK(h.seen[1].timestamp_ns == 2'000'000 + 650'000'000);  // when its reader could have it
    CHECK(h.r.counters().lost_segments == 0);
    CHECK(h.r.held_segments() == 0);
    CHECK(h.r.buffered_bytes() == 0);
}

TEST_CASE("the reorder window is a limit") {
    TcpReassemblyLimits limits;
    limits.reorder_window_ns = 50'000'000;
    Harness h(limits);
    const Bytes a = body(30, 19), b = body(30, 20), c = body(30, 21);
    const Bytes wire = cat({framed(a), framed(b), framed(c)});
    h.feed(0, slice(wire, 0, 32), 0, 1'000'000);    // a
    h.feed(64, slice(wire, 64, 96), 0, 2'000'000);  // c; b lost
    h.expire(2'000'000 + 50'000'000 - 1);
    CHECK(h.got.size() == 1);
    h.expire(2'000'000 + 50'000'000);
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[1] == c);
    CHECK(h.seen[1].timestamp_ns == 2'000'000);
    CHECK(h.r.counters().lost_segments == 1);
}

TEST_CASE("a gap that never fills is counted and the stream resynchronises") {
    Harness h;
    const Bytes a = body(30, 13), b = body(100, 14), c = body(25, 15), d = body(35, 16);
    const Bytes wire = cat({framed(a), framed(b)});
    h.feed(0, slice(wire, 0, 32), 0, 1'000'000);  // exactly a
    // All of b is lost, its length prefix included, so where the next message
    // starts is a guess: the next segment. c starts it.
    const uint32_t seq_c = static_cast<uint32_t>(wire.size());
    h.feed(seq_c, framed(c), 0, 2'000'000);
    CHECK(h.got.size() == 1);  // c waits for the gap in case it was reordering
    CHECK(h.r.counters().lost_segments == 0);

    SUBCASE("given up when the reorder window has passed") {
        const uint32_t seq_d = seq_c + static_cast<uint32_t>(c.size() + 2);
        h.feed(seq_d, framed(d), 0, 2'000'000 + h.r.reorder_window_ns());
        REQUIRE(h.got.size() == 3);
        CHECK(h.got[1] == c);
        CHECK(h.got[2] == d);
        CHECK(h.r.counters().lost_segments == 1);
    }
    SUBCASE("given up by the clock when no segment follows") {
        // An idle connection: the answer held behind the gap must not wait
        // for a segment that may never come.
        CHECK(h.r.held_segments() == 1);
        h.expire(2'000'000 + h.r.reorder_window_ns() - 1);
        CHECK(h.got.size() == 1);
        h.expire(2'000'000 + h.r.reorder_window_ns());
        REQUIRE(h.got.size() == 2);
        CHECK(h.got[1] == c);
        CHECK(h.seen[1].timestamp_ns == 2'000'000);  // when c arrived, not when it was given up
        CHECK(h.r.counters().lost_segments == 1);
        CHECK(h.r.held_segments() == 0);
        CHECK(h.r.flow_count() == 1);  // the connection itself lives on
    }
    SUBCASE("given up at FIN") {
        h.feed(seq_c + static_cast<uint32_t>(c.size() + 2), {}, tcp_flag::fin, 3'000'000);
        REQUIRE(h.got.size() == 2);
        CHECK(h.got[1] == c);
        CHECK(h.r.counters().lost_segments == 1);
        CHECK(h.r.flow_count() == 0);
    }
    CHECK(h.got[0] == a);
    CHECK(h.r.buffered_bytes() == 0);
}

TEST_CASE("a guessed message start whose header cannot be DNS is skipped: the next segment is the next guess") {
    Harness h;
    const Bytes b = body(30, 46), c = body(40, 47);
    h.syn();
    h.feed(0, framed(b), 0, 0);
    // [32, 132) is lost, and the segment after it begins inside a message:
    // taken for a length prefix and a header, its bytes ask 1799 questions
    // in 16384 bytes, which would swallow c behind them.
    Bytes inside = {0x40, 0x00, 0xab, 0xcd, 0x01, 0x00, 0x07, 0x07, 0, 0, 0, 0, 0, 0};
    inside.resize(60, 0x55);
    h.feed(132, inside, 0, 1);
    h.feed(192, framed(c), 0, 2);
    h.expire(2 + h.r.reorder_window_ns());
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[0] == b);
    CHECK(h.got[1] == c);
    CHECK(h.r.counters().lost_segments == 2);  // the gap, and the rest of the segment after it
    CHECK(h.r.buffered_bytes() == 0);
}

TEST_CASE("a flow first seen inside a message waits for a segment that starts one") {
    Harness h;
    const Bytes c = body(40, 48);
    // An opcode no message has (3), in a header that otherwise could be one.
    Bytes inside = {0x00, 0x20, 0xab, 0xcd, 0x18, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0};
    inside.resize(34, 0x55);
    h.feed(1000, inside);
    h.feed(1034, framed(c));
    REQUIRE(h.got.size() == 1);
    CHECK(h.got[0] == c);
    CHECK(h.r.counters().lost_segments == 1);
}

TEST_CASE("a guessed start dropped in a segment the capture cut is one loss, not two") {
    Harness h;
    Bytes inside = {0x40, 0x00, 0xab, 0xcd, 0x18, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0};  // opcode 3
    inside.resize(60, 0x55);
    h.feed_cut(flow_key(1), 10, 1000, 0, 4000, inside);
    CHECK(h.r.counters().lost_segments == 1);
    const Bytes c = body(40, 52);
    h.feed(flow_key(1), 20, 5000, 0, framed(c));
    REQUIRE(h.got.size() == 1);
    CHECK(h.got[0] == c);
}

TEST_CASE("a gap inside a message of known length drops only that message") {
    Harness h;
    const Bytes a = body(200, 17), b = body(40, 18), c = body(10, 19);
    const Bytes wire = cat({framed(a), framed(b), framed(c)});
    h.syn();
    h.feed(0, slice(wire, 0, 100), 0, 0);
    // [100, 150) is lost; the next segment starts in the middle of a, so a
    // segment-boundary guess would be wrong: a's length says where b starts.
    h.feed(150, slice(wire, 150, 220), 0, 10);
    h.feed(220, slice(wire, 220, wire.size()), 0, 10 + h.r.reorder_window_ns());
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[0] == b);
    CHECK(h.got[1] == c);
    CHECK(h.r.counters().lost_segments == 1);
    // What came of a is still handed over, marked lost and timed by its own
    // last captured segment, not by the segment after the gap.
    REQUIRE(h.partials.size() == 1);
    CHECK(h.partials[0].bytes == slice(a, 0, 98));
    CHECK(h.partials[0].tail == MessageTail::lost);
    CHECK(h.partials[0].seen.timestamp_ns == 0);
    CHECK(h.partials[0].seen.socket_cookie == 1);
    CHECK(h.r.counters().partial_messages == 1);
    CHECK(h.r.buffered_bytes() == 0);
}

TEST_CASE("a cut capture reports what it has of the cut message and resynchronises") {
    Harness h;
    const Bytes a = body(30, 20), b = body(60, 21), c = body(20, 22);
    const Bytes wire = cat({framed(a), framed(b)});
    h.syn();
    SUBCASE("the cut takes only the end of b: b is reported cut, nothing is lost") {
        // 92 bytes on the wire, 50 captured: a is whole, 16 bytes of b.
        h.feed_cut(flow_key(1), 7, 0, 0, static_cast<uint32_t>(wire.size()), slice(wire, 0, 50));
        REQUIRE(h.partials.size() == 1);
        CHECK(h.partials[0].bytes == slice(b, 0, 16));
        CHECK(h.partials[0].tail == MessageTail::cut);
        CHECK(h.partials[0].seen.timestamp_ns == 7);
        CHECK(h.r.counters().lost_segments == 0);
    }
    SUBCASE("less than a DNS header of b: b is lost, and counted") {
        h.feed_cut(flow_key(1), 7, 0, 0, static_cast<uint32_t>(wire.size()), slice(wire, 0, 45));
        CHECK(h.partials.empty());
        CHECK(h.r.counters().lost_segments == 1);
    }
    SUBCASE("the cut also takes the start of another message: that is a loss") {
        const Bytes more = cat({wire, framed(c)});
        h.feed_cut(flow_key(1), 7, 0, 0, static_cast<uint32_t>(more.size()), slice(more, 0, 50));
        REQUIRE(h.partials.size() == 1);
        CHECK(h.partials[0].bytes == slice(b, 0, 16));
        CHECK(h.r.counters().lost_segments == 1);
        h.feed(static_cast<uint32_t>(more.size()), framed(a));
        REQUIRE(h.got.size() == 2);
        CHECK(h.got[1] == a);
        return;
    }
    REQUIRE(h.got.size() == 1);
    CHECK(h.got[0] == a);
    CHECK(h.r.buffered_bytes() == 0);
    h.feed(static_cast<uint32_t>(wire.size()), framed(c));
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[1] == c);
}

TEST_CASE("a message larger than the snap length is reported cut and skipped by its length") {
    Harness h;
    const Bytes big = body(9000, 23), after = body(30, 24);
    const Bytes wire = cat({framed(big), framed(after)});
    h.syn();
    // The first segment carries most of big but only 4096 bytes were captured.
    h.feed_cut(flow_key(1), 0, 0, 0, 8000, slice(wire, 0, 4096));
    CHECK(h.got.empty());
    REQUIRE(h.partials.size() == 1);
    CHECK(h.partials[0].bytes == slice(big, 0, 4094));
    CHECK(h.partials[0].tail == MessageTail::cut);
    CHECK(h.r.counters().lost_segments == 0);
    h.feed(8000, slice(wire, 8000, wire.size()));
    REQUIRE(h.got.size() == 1);
    CHECK(h.got[0] == after);
    CHECK(h.partials.size() == 1);
    CHECK(h.r.buffered_bytes() == 0);
}

TEST_CASE("every cut segment of a message whose beginning was reported loses nothing more") {
    // GRO hands a long answer over in several large segments, each cut.
    Harness h;
    const Bytes big = body(3000, 40), after = body(20, 41);
    const Bytes wire = cat({framed(big), framed(after)});
    h.syn();
    for (uint32_t at = 0; at < 3000; at += 1000)
        h.feed_cut(flow_key(1), at, at, 0, 1000, slice(wire, at, at + 100));
    h.feed(3000, slice(wire, 3000, wire.size()));
    REQUIRE(h.partials.size() == 1);
    CHECK(h.partials[0].bytes == slice(big, 0, 98));
    CHECK(h.partials[0].seen.timestamp_ns == 0);
    REQUIRE(h.got.size() == 1);
    CHECK(h.got[0] == after);
    CHECK(h.r.counters().lost_segments == 0);
}

TEST_CASE("a partial message the sink cannot report is counted lost") {
    Harness h;
    h.take_partials = false;
    const Bytes a = body(60, 42);
    h.syn();
    h.feed_cut(flow_key(1), 0, 0, 0, 62, slice(framed(a), 0, 40));
    CHECK(h.partials.empty());
    CHECK(h.r.counters().partial_messages == 0);
    CHECK(h.r.counters().lost_segments == 1);
}

TEST_CASE("a message cut in several segments is counted lost once, whatever became of its beginning") {
    TcpReassemblyLimits limits;
    limits.max_flow_bytes = 200;
    Harness h(limits);
    const Bytes a = body(180, 50), after = body(20, 51);
    const Bytes wire = cat({framed(a), framed(after)});
    h.syn();
    SUBCASE("refused by the sink") {
        h.take_partials = false;
        h.feed_cut(flow_key(1), 0, 0, 0, 100, slice(wire, 0, 40));
    }
    SUBCASE("too little of it to report") {
        h.feed_cut(flow_key(1), 0, 0, 0, 100, slice(wire, 0, 8));
    }
    SUBCASE("skipped for the budget") {
        limits.max_flow_bytes = 100;
        Harness small(limits);
        small.syn();
        const Bytes big = body(300, 52);
        const Bytes more = cat({framed(big), framed(after)});
        small.feed(0, slice(more, 0, 100));
        small.feed_cut(flow_key(1), 1, 100, 0, 100, slice(more, 100, 140));
        small.feed(200, slice(more, 200, more.size()));
        CHECK(small.got.size() == 1);
        CHECK(small.r.counters().lost_segments == 1);
        return;
    }
    h.feed_cut(flow_key(1), 1, 100, 0, 82, slice(wire, 100, 140));
    h.feed(182, slice(wire, 182, wire.size()));
    REQUIRE(h.got.size() == 1);
    CHECK(h.got[0] == after);
    CHECK(h.partials.empty());
    CHECK(h.r.counters().lost_segments == 1);
}

TEST_CASE("a final segment retransmitted after its flow closed reports nothing twice") {
    Harness h;
    const Bytes a = body(30, 56), b = body(50, 57);
    const Bytes final_segment = cat({framed(a), slice(framed(b), 0, 20)});
    h.syn();
    h.feed(0, final_segment, tcp_flag::fin, 1);
    REQUIRE(h.got.size() == 1);
    REQUIRE(h.partials.size() == 1);
    CHECK(h.r.flow_count() == 0);
    CHECK(h.r.closed_flow_count() == 1);
    // Its ACK was lost: the same segment again, for a flow already gone.
    // Neither the whole message nor the one it ends inside of is new.
    h.feed(0, final_segment, tcp_flag::fin, 2);
    CHECK(h.got.size() == 1);
    CHECK(h.partials.size() == 1);
    CHECK(h.r.counters().messages == 1);
    CHECK(h.r.counters().lost_segments == 0);
    CHECK(h.r.flow_count() == 0);
}

TEST_CASE("retransmissions of a closed flow's segments are not delivered again") {
    Harness h;
    const Bytes a = body(30, 90), b = body(40, 91);
    const Bytes first = framed(a), last = framed(b);
    const uint32_t end = static_cast<uint32_t>(first.size() + last.size());
    h.syn(1000);
    h.feed(1000, first, 0, 1);
    SUBCASE("data and FIN in one segment, retransmitted as it was") {
        h.feed(1000 + static_cast<uint32_t>(first.size()), last, tcp_flag::fin, 2);
        REQUIRE(h.got.size() == 2);
        h.feed(1000 + static_cast<uint32_t>(first.size()), last, tcp_flag::fin, 200'000'000);
        h.feed(1000 + static_cast<uint32_t>(first.size()), last, tcp_flag::fin, 600'000'000);
    }
    SUBCASE("FIN alone, the data retransmitted with it") {
        h.feed(1000 + static_cast<uint32_t>(first.size()), last, 0, 2);
        h.feed(1000 + end, {}, tcp_flag::fin, 3);
        REQUIRE(h.got.size() == 2);
        h.feed(1000 + static_cast<uint32_t>(first.size()), last, tcp_flag::fin, 200'000'000);
    }
    SUBCASE("an earlier segment, then everything at once") {
        h.feed(1000 + static_cast<uint32_t>(first.size()), last, tcp_flag::fin, 2);
        REQUIRE(h.got.size() == 2);
        h.feed(1000, first, 0, 200'000'000);
        h.feed(1000, cat({first, last}), tcp_flag::fin, 600'000'000);
    }
    CHECK(h.got.size() == 2);
    CHECK(h.partials.empty());
    CHECK(h.r.counters().messages == 2);
    CHECK(h.r.counters().lost_segments == 0);
    CHECK(h.r.flow_count() == 0);
    CHECK(h.r.closed_flow_count() == 1);
}

TEST_CASE("a closed flow's ports reused: the new stream is delivered") {
    Harness h;
    const Bytes a = body(100, 92), b = body(30, 93), c = body(20, 94);
    h.syn(0);
    h.feed(0, framed(a), tcp_flag::fin, 1);
    REQUIRE(h.got.size() == 1);
    REQUIRE(h.r.closed_flow_count() == 1);
    uint32_t seq_c = 0;
    SUBCASE("a SYN starts it, even with a sequence number inside the old stream") {
        // The new stream's first bytes lie wholly within what the closed
        // flow covered: only the SYN tells them apart from a copy.
        h.feed(flow_key(1), 2, 9, tcp_flag::syn, {});
        CHECK(h.r.closed_flow_count() == 0);
        h.feed(10, framed(b), 0, 3);
        seq_c = 10 + 32;
    }
    SUBCASE("its SYN unseen, data beyond the old end starts it mid-stream") {
        h.feed(5000, framed(b), 0, 3);
        CHECK(h.r.closed_flow_count() == 0);
        seq_c = 5000 + 32;
    }
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[1] == b);
    CHECK(h.r.flow_count() == 1);
    // Followed like any stream, and remembered in turn when it closes.
    h.feed(seq_c, framed(c), tcp_flag::fin, 4);
    REQUIRE(h.got.size() == 3);
    CHECK(h.got[2] == c);
    CHECK(h.r.closed_flow_count() == 1);
    h.feed(seq_c, framed(c), tcp_flag::fin, 5);
    CHECK(h.got.size() == 3);
    CHECK(h.r.counters().lost_segments == 0);
}

TEST_CASE("closed flows are remembered in bounded number, for a bounded time") {
    TcpReassemblyLimits limits;
    limits.max_closed_flows = 3;
    limits.closed_linger_ns = 1000;
    Harness h(limits);
    const Bytes final_segment = framed(body(20, 95));
    // Ten connections, each one final segment after its SYN.
    for (uint64_t cookie = 1; cookie <= 10; ++cookie) {
        h.feed(flow_key(cookie), 100, 0, tcp_flag::syn, {});
        h.feed(flow_key(cookie), 100, 1, tcp_flag::fin, final_segment);
        CHECK(h.r.closed_flow_count() == std::min<uint64_t>(cookie, 3));
    }
    REQUIRE(h.got.size() == 10);
    CHECK(h.r.flow_count() == 0);

    // The last three closed are remembered: their copies are ignored.
    for (uint64_t cookie = 8; cookie <= 10; ++cookie)
        h.feed(flow_key(cookie), 600, 1, tcp_flag::fin, final_segment);
    CHECK(h.got.size() == 10);
    // One forgotten for the limit loses nothing: its copy is taken for a
    // new flow, as before there was any memory, and reported again.
    h.feed(flow_key(1), 600, 1, tcp_flag::fin, final_segment);
    CHECK(h.got.size() == 11);
    CHECK(h.r.closed_flow_count() == 3);  // flow 1 again, in place of the oldest
    CHECK(h.r.counters().lost_segments == 0);

    // A copy keeps its flow remembered for another linger from when it came:
    // flows 9 and 10 were seen at 600, flow 1 closed again at 600.
    h.feed(flow_key(10), 1500, 1, tcp_flag::fin, final_segment);
    CHECK(h.got.size() == 11);
    h.expire(1600);
    CHECK(h.r.closed_flow_count() == 1);  // only flow 10's time is not up
    // Past its time a flow is not remembered, even before expire() frees it.
    h.feed(flow_key(10), 2500, 1, tcp_flag::fin, final_segment);
    CHECK(h.got.size() == 12);
    h.expire(10'000);
    CHECK(h.r.closed_flow_count() == 0);
    CHECK(h.r.counters().lost_segments == 0);
}

TEST_CASE("no partial message from a guessed message start until a whole message confirms it") {
    Harness h;
    const Bytes a = body(200, 43), b = body(30, 44), c = body(80, 45);
    SUBCASE("a flow first seen mid-stream") {
        // No SYN: the first byte seen may be anywhere in a message.
        h.feed(0, slice(framed(a), 0, 100), tcp_flag::fin);
        CHECK(h.partials.empty());
        CHECK(h.r.counters().lost_segments == 1);
    }
    SUBCASE("a flow first seen mid-stream, confirmed by a whole message") {
        const Bytes wire = cat({framed(b), framed(c)});
        h.feed(0, slice(wire, 0, 60));
        h.feed(60, {}, tcp_flag::fin);
        REQUIRE(h.got.size() == 1);
        REQUIRE(h.partials.size() == 1);
        CHECK(h.partials[0].bytes == slice(c, 0, 26));
    }
    SUBCASE("resynchronised after a gap at a segment that starts inside a message") {
        const Bytes wire = cat({framed(b), framed(a), framed(c)});
        h.syn();
        h.feed(0, slice(wire, 0, 32), 0, 0);  // b whole
        // a's first 100 bytes, length prefix included, are lost; the next
        // segment is taken for a message start, and its bytes for a length.
        h.feed(132, slice(wire, 132, 200), 0, 1);
        h.expire(1 + h.r.reorder_window_ns());
        h.feed(200, {}, tcp_flag::fin, 2 + h.r.reorder_window_ns());
        CHECK(h.got.size() == 1);
        CHECK(h.partials.empty());
    }
}

TEST_CASE("a connection whose SYN came under the listening socket starts exactly under the accepted one") {
    // Server side: the client's SYN arrives at the listener (cookie 1), its
    // data at the socket accept() made (cookie 2).
    Harness h;
    const Bytes a = body(600, 49);
    const Bytes wire = framed(a);
    const uint32_t wire_len = static_cast<uint32_t>(wire.size());
    h.feed_cut(flow_key(1), 0, 999, tcp_flag::syn, 0, {}, Direction::ingress);
    CHECK(h.r.flow_count() == 1);
    SUBCASE("its data starts where the SYN said: a cut message is reported from its beginning") {
        h.feed_cut(flow_key(2), 10, 1000, 0, wire_len, slice(wire, 0, 300), Direction::ingress);
        REQUIRE(h.partials.size() == 1);
        CHECK(h.partials[0].bytes == slice(a, 0, 298));
        CHECK(h.partials[0].tail == MessageTail::cut);
        CHECK(h.r.flow_count() == 1);  // the SYN's flow gave way to the accepted socket's
    }
    SUBCASE("data elsewhere is another connection's: its start is a guess, and the SYN's flow stays") {
        h.feed_cut(flow_key(2), 10, 5000, 0, wire_len, slice(wire, 0, 300), Direction::ingress);
        CHECK(h.partials.empty());
        CHECK(h.r.flow_count() == 2);
    }
    SUBCASE("a SYN's flow that carried data of its own is left alone") {
        h.feed_cut(flow_key(1), 5, 1000, 0, 22, framed(body(20, 50)), Direction::ingress);
        h.feed_cut(flow_key(2), 10, 1000, 0, wire_len, slice(wire, 0, 300), Direction::ingress);
        CHECK(h.partials.empty());
        CHECK(h.r.flow_count() == 2);
    }
    SUBCASE("seen leaving, the SYN without ACK is a client's, on the socket that sends its data") {
        Harness client;
        client.feed_cut(flow_key(1), 0, 999, tcp_flag::syn, 0, {}, Direction::egress);
        client.feed_cut(flow_key(2), 10, 1000, 0, wire_len, slice(wire, 0, 300), Direction::egress);
        CHECK(client.partials.empty());
        CHECK(client.r.flow_count() == 2);
    }
}

TEST_CASE("on loopback the answer seen leaving the server is not taken for the one seen reaching the client") {
    // Both ends on this host, the server side captured too: the server's
    // SYN-ACK leaves from the listener (cookie 1) and reaches the client's
    // socket (cookie 3); its data leaves from the accepted socket (cookie 2)
    // and reaches cookie 3 again. Same endpoints, same sequence numbers.
    Harness h;
    const Bytes a = body(600, 51);
    const Bytes wire = framed(a);
    const uint32_t wire_len = static_cast<uint32_t>(wire.size());
    const uint8_t syn_ack = tcp_flag::syn | tcp_flag::ack;
    h.feed_cut(flow_key(1), 10, 999, syn_ack, 0, {}, Direction::egress);
    h.feed_cut(flow_key(3), 10, 999, syn_ack, 0, {}, Direction::ingress);
    h.feed_cut(flow_key(2), 10, 1000, tcp_flag::ack, wire_len, slice(wire, 0, 300), Direction::egress);
    h.feed_cut(flow_key(3), 10, 1000, tcp_flag::ack, wire_len, slice(wire, 0, 300), Direction::ingress);
    REQUIRE(h.partials.size() == 2);  // each end reports the cut answer from its beginning
    CHECK(h.partials[0].seen.socket_cookie == 2);
    CHECK(h.partials[1].seen.socket_cookie == 3);
    CHECK(h.r.flow_count() == 2);
    CHECK(h.r.counters().lost_segments == 0);
}

TEST_CASE("SYN sets the initial sequence number") {
    Harness h;
    const Bytes a = body(30, 25);
    h.feed(41, {}, tcp_flag::syn);
    CHECK(h.r.flow_count() == 1);
    h.feed(42, framed(a));
    REQUIRE(h.got.size() == 1);
    CHECK(h.got[0] == a);
    // A retransmitted SYN changes nothing.
    h.feed(41, {}, tcp_flag::syn);
    h.feed(42, framed(a));
    CHECK(h.got.size() == 1);
}

TEST_CASE("SYN before a reordered first segment: the data waits for the SYN's sequence") {
    Harness h;
    const Bytes a = body(30, 26), b = body(20, 27);
    h.feed(100, {}, tcp_flag::syn);
    h.feed(101 + 32, framed(b));
    CHECK(h.got.empty());
    h.feed(101, framed(a));
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[0] == a);
    CHECK(h.got[1] == b);
}

TEST_CASE("FIN delivers what is complete and forgets the flow") {
    Harness h;
    const Bytes a = body(30, 28), b = body(50, 29);
    h.syn();
    SUBCASE("complete") {
        h.feed(0, cat({framed(a), framed(b)}), tcp_flag::fin);
        CHECK(h.got.size() == 2);
        CHECK(h.r.counters().lost_segments == 0);
    }
    SUBCASE("the stream ends inside a message: what came is reported, nothing was lost") {
        h.feed(0, cat({framed(a), slice(framed(b), 0, 20)}), tcp_flag::fin);
        CHECK(h.got.size() == 1);
        REQUIRE(h.partials.size() == 1);
        CHECK(h.partials[0].bytes == slice(b, 0, 18));
        CHECK(h.partials[0].tail == MessageTail::ended);
        CHECK(h.r.counters().lost_segments == 0);
    }
    SUBCASE("the FIN comes after data the capture lost: what came is reported, and counted lost") {
        h.feed(0, cat({framed(a), slice(framed(b), 0, 20)}));
        h.feed(60, {}, tcp_flag::fin);
        CHECK(h.got.size() == 1);
        REQUIRE(h.partials.size() == 1);
        CHECK(h.partials[0].bytes == slice(b, 0, 18));
        CHECK(h.partials[0].tail == MessageTail::lost);
        CHECK(h.r.counters().lost_segments == 1);
    }
    SUBCASE("FIN without data after the messages") {
        const Bytes wire = framed(a);
        h.feed(0, wire);
        h.feed(static_cast<uint32_t>(wire.size()), {}, tcp_flag::fin);
        CHECK(h.got.size() == 1);
        CHECK(h.r.counters().lost_segments == 0);
    }
    CHECK(h.r.flow_count() == 0);
    CHECK(h.r.buffered_bytes() == 0);
    // A FIN retransmitted after the flow is gone does not recreate it.
    h.feed(500, {}, tcp_flag::fin);
    CHECK(h.r.flow_count() == 0);
}

TEST_CASE("RST forgets the flow; what came of a message it cuts short is reported") {
    Harness h;
    const Bytes a = body(100, 30);
    const Bytes wire = framed(a);
    h.syn();
    h.feed(0, slice(wire, 0, 50));
    CHECK(h.r.buffered_bytes() > 0);
    SUBCASE("reset where the capture ends: nothing was lost") {
        h.feed(50, {}, tcp_flag::rst, 9);
        REQUIRE(h.partials.size() == 1);
        CHECK(h.partials[0].tail == MessageTail::ended);
        CHECK(h.r.counters().lost_segments == 0);
    }
    SUBCASE("reset beyond data the capture lost: counted lost") {
        h.feed(80, {}, tcp_flag::rst, 9);
        REQUIRE(h.partials.size() == 1);
        CHECK(h.partials[0].tail == MessageTail::lost);
        CHECK(h.r.counters().lost_segments == 1);
    }
    CHECK(h.r.flow_count() == 0);
    CHECK(h.r.buffered_bytes() == 0);
    CHECK(h.got.empty());
    // Timed by the message's own segment, not by the reset.
    CHECK(h.partials[0].bytes == slice(a, 0, 48));
    CHECK(h.partials[0].seen.timestamp_ns == 1000);
    // RST on an unknown flow, and a pure ACK, create nothing.
    h.feed(flow_key(9), 0, 1, tcp_flag::rst, {});
    h.feed(flow_key(9), 0, 1, 0x10, {});
    CHECK(h.r.flow_count() == 0);
}

TEST_CASE("sequence numbers wrap around at 2^32") {
    Harness h;
    const Bytes a = body(100, 31), b = body(30, 32);
    const Bytes wire = cat({framed(a), framed(b)});
    const uint32_t isn = 0xFFFFFFF0u;
    h.feed(isn, {}, tcp_flag::syn);
    const uint32_t start = isn + 1;     // 0xFFFFFFF1
    h.feed(start, slice(wire, 0, 40));  // crosses 0xFFFFFFFF
    // Retransmission of the pre-wrap part after the wrap must be recognised as old.
    h.feed(start, slice(wire, 0, 10));
    // Reordered pair beyond the wrap.
    h.feed(start + 80, slice(wire, 80, wire.size()));
    h.feed(start + 40, slice(wire, 40, 80));
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[0] == a);
    CHECK(h.got[1] == b);
    CHECK(h.r.counters().lost_segments == 0);
}

TEST_CASE("an out-of-order pair is delivered in order") {
    Harness h;
    const Bytes a = body(30, 33), b = body(30, 34), c = body(30, 35);
    const Bytes wire = cat({framed(a), framed(b), framed(c)});
    h.feed(0, slice(wire, 0, 32));
    h.feed(64, slice(wire, 64, 96));
    h.feed(64, slice(wire, 64, 96));  // duplicate of a held segment
    CHECK(h.got.size() == 1);
    CHECK(h.r.buffered_bytes() == 32);
    h.feed(32, slice(wire, 32, 64));
    REQUIRE(h.got.size() == 3);
    CHECK(h.got[1] == b);
    CHECK(h.got[2] == c);
    CHECK(h.r.counters().lost_segments == 0);
    CHECK(h.r.buffered_bytes() == 0);
}

TEST_CASE("messages held behind a gap are reported as seen when the gap filled") {
    // The reader gets them only then: the socket delivers the stream in order.
    Harness h;
    const Bytes a = body(30, 36), b = body(30, 37), c = body(30, 38);
    const Bytes wire = cat({framed(a), framed(b), framed(c)});
    TcpFlowKey key = flow_key(1);
    h.feed(key, 1000, 0, 0, slice(wire, 0, 32));
    h.feed(key, 2000, 64, 0, slice(wire, 64, 96));  // c, ahead of b
    h.feed(key, 3000, 32, 0, slice(wire, 32, 64));  // b fills the gap
    REQUIRE(h.got.size() == 3);
    CHECK(h.got[1] == b);
    CHECK(h.seen[1].timestamp_ns == 3000);
    CHECK(h.got[2] == c);
    CHECK(h.seen[2].timestamp_ns == 3000);
    CHECK(h.seen[2].socket_cookie == key.socket_cookie);
    CHECK(h.seen[2].source == key.source);
    CHECK(h.r.held_segments() == 0);
}

TEST_CASE("too many held segments: the gap is given up, held data still delivered") {
    Harness h;
    std::vector<Bytes> messages;
    Bytes wire;
    for (uint8_t i = 0; i < 12; ++i) {
        messages.push_back(body(10, static_cast<uint8_t>(40 + i)));
        const Bytes f = framed(messages.back());
        wire.insert(wire.end(), f.begin(), f.end());
    }
    // Message 0 is never seen: every later segment is ahead.
    h.feed(0xFFFFFFFFu, {}, tcp_flag::syn);
    for (size_t i = 1; i < 12; ++i)
        h.feed(static_cast<uint32_t>(i * 12), slice(wire, i * 12, (i + 1) * 12));
    REQUIRE(h.got.size() == 11);
    for (size_t i = 1; i < 12; ++i)
        CHECK(h.got[i - 1] == messages[i]);
    CHECK(h.r.counters().lost_segments == 1);
    CHECK(h.r.buffered_bytes() == 0);
    CHECK(h.r.held_segments() == 0);
}

TEST_CASE("each reassembler hashes flows from a random seed of its own, and reassembles alike") {
    Harness a;
    Harness b;
    // Two equal 64-bit draws, or a zero one, have a chance of about 2^-63.
    CHECK(a.r.hash_seed() != 0);
    CHECK(b.r.hash_seed() != 0);
    CHECK(a.r.hash_seed() != b.r.hash_seed());
    // 300 flows, each message split in two, the halves interleaved across flows.
    const Bytes wire = framed(body(40, 61));
    for (Harness* h : {&a, &b}) {
        for (uint16_t port = 0; port < 300; ++port)
            h->feed(flow_key(7, port), 100, 0, 0, slice(wire, 0, 20));
        for (uint16_t port = 0; port < 300; ++port)
            h->feed(flow_key(7, port), 200, 20, 0, slice(wire, 20, wire.size()));
    }
    for (const Harness* h : {&a, &b}) {
        CHECK(h->got.size() == 300);
        CHECK(h->r.flow_count() == 300);
        CHECK(h->r.buffered_bytes() == 0);
        CHECK(h->r.counters().lost_segments == 0);
    }
}

TEST_CASE("flow limit evicts the least recently used flow") {
    TcpReassemblyLimits limits;
    limits.max_flows = 2;
    Harness h(limits);
    const Bytes partial = slice(framed(body(100, 50)), 0, 30);
    const Bytes whole = framed(body(10, 51));
    h.feed(flow_key(1), 0, 0, 0, partial);  // will be the oldest
    h.feed(flow_key(2), 1, 0, 0, whole);
    h.feed(flow_key(2), 2, 12, 0, whole);  // 2 is now most recent
    h.feed(flow_key(3), 3, 0, 0, whole);
    CHECK(h.r.flow_count() == 2);
    CHECK(h.r.counters().flows_evicted == 1);
    CHECK(h.r.counters().lost_segments == 1);  // flow 1's partial message
    CHECK(h.r.buffered_bytes() == 0);
    // Flow 2 survived: its next segment continues its stream.
    h.feed(flow_key(2), 4, 24, 0, whole);
    CHECK(h.got.size() == 4);
    // Flow 1 comes back as a new flow (mid-stream); evicting 3 loses nothing.
    h.feed(flow_key(1), 5, 30, 0, whole);
    CHECK(h.r.counters().flows_evicted == 2);
    CHECK(h.r.counters().lost_segments == 1);
    CHECK(h.got.size() == 5);
}

TEST_CASE("total byte budget: a message that does not fit is skipped by its length") {
    TcpReassemblyLimits limits;
    limits.max_total_bytes = 150;
    Harness h(limits);
    const Bytes big1 = framed(body(100, 52));
    const Bytes big2 = framed(body(100, 53));
    const Bytes small = body(8, 54);
    h.feed(flow_key(1), 0, 0, 0, slice(big1, 0, 10));
    CHECK(h.r.buffered_bytes() == 102);
    h.feed(flow_key(2), 0, 0, 0, slice(big2, 0, 10));
    CHECK(h.r.counters().lost_segments == 1);
    CHECK(h.r.buffered_bytes() == 102);
    // Flow 2 stays in step: the message after the dropped one is delivered.
    h.feed(flow_key(2), 0, 10, 0, cat({slice(big2, 10, big2.size()), framed(small)}));
    REQUIRE(h.got.size() == 1);
    CHECK(h.got[0] == small);
    h.feed(flow_key(1), 0, 10, 0, slice(big1, 10, big1.size()));
    CHECK(h.got.size() == 2);
    CHECK(h.r.buffered_bytes() == 0);
}

TEST_CASE("per-flow budget bounds out-of-order data") {
    TcpReassemblyLimits limits;
    limits.max_flow_bytes = 64;
    Harness h(limits);
    const Bytes a = body(40, 55), b = body(40, 56), c = body(40, 57);
    const Bytes wire = cat({framed(a), framed(b), framed(c)});
    h.feed(0, slice(wire, 0, 10));  // a (42 bytes with its prefix) fits
    CHECK(h.r.counters().lost_segments == 0);
    // b arrives ahead: 42 + 42 > 64, cannot be held, so the gap is given up.
    h.feed(42, slice(wire, 42, 84));
    CHECK(h.r.counters().lost_segments == 1);
    REQUIRE(h.got.size() == 1);
    CHECK(h.got[0] == b);
    h.feed(84, slice(wire, 84, wire.size()));
    CHECK(h.got.size() == 2);
    CHECK(h.r.buffered_bytes() == 0);
}

TEST_CASE("idle flows expire") {
    TcpReassemblyLimits limits;
    limits.idle_timeout_ns = 1000;
    Harness h(limits);
    h.feed(flow_key(1), 100, 0, 0, slice(framed(body(50, 58)), 0, 20));  // partial
    h.feed(flow_key(2), 500, 0, 0, framed(body(5, 59)));                 // nothing pending
    h.expire(1099);
    CHECK(h.r.flow_count() == 2);
    h.expire(1100);
    CHECK(h.r.flow_count() == 1);
    CHECK(h.r.counters().lost_segments == 1);
    CHECK(h.r.counters().flows_evicted == 1);
    CHECK(h.r.buffered_bytes() == 0);
    h.expire(1500);
    CHECK(h.r.flow_count() == 0);
    CHECK(h.r.counters().flows_evicted == 1);  // no data pending: not an eviction
    CHECK(h.r.counters().lost_segments == 1);
}

namespace {

// Leaves flow_key(cookie) at time `now` with half a message assembled and two
// later segments held behind a gap: three things a close would lose.
void start_partial_with_two_held(Harness& h, uint64_t cookie, uint64_t now) {
    const Bytes wire = cat({framed(body(100, 61)), framed(body(20, 62)), framed(body(20, 63))});
    const size_t delivered = h.got.size();
    const uint64_t lost = h.r.counters().lost_segments;
    const size_t buffered = h.r.buffered_bytes();
    const size_t held = h.r.held_segments();
    h.feed(flow_key(cookie), now, 0, 0, slice(wire, 0, 50));
    h.feed(flow_key(cookie), now, 102, 0, slice(wire, 102, 124));
    h.feed(flow_key(cookie), now, 124, 0, slice(wire, 124, 146));
    REQUIRE(h.got.size() == delivered);
    REQUIRE(h.r.counters().lost_segments == lost);
    // The whole first message is charged up front, the held segments as captured.
    REQUIRE(h.r.buffered_bytes() == buffered + 102 + 22 + 22);
    REQUIRE(h.r.held_segments() == held + 2);
}

}  // namespace

TEST_CASE("closing a flow counts each held segment and the partial message") {
    TcpReassemblyLimits limits;
    limits.idle_timeout_ns = 1000;
    SUBCASE("RST") {
        Harness h(limits);
        start_partial_with_two_held(h, 1, 100);
        h.feed(flow_key(1), 101, 50, tcp_flag::rst, {});
        CHECK(h.r.counters().lost_segments == 3);
        CHECK(h.r.counters().flows_evicted == 0);
        CHECK(h.r.flow_count() == 0);
        CHECK(h.r.buffered_bytes() == 0);
    }
    SUBCASE("idle expiry") {
        Harness h(limits);
        start_partial_with_two_held(h, 1, 100);
        h.expire(1100);
        CHECK(h.r.counters().lost_segments == 3);
        CHECK(h.r.counters().flows_evicted == 1);
        CHECK(h.r.flow_count() == 0);
        CHECK(h.r.buffered_bytes() == 0);
    }
    SUBCASE("flow limit eviction") {
        limits.max_flows = 1;
        Harness h(limits);
        start_partial_with_two_held(h, 1, 100);
        h.feed(flow_key(2), 101, 0, 0, framed(body(5, 64)));
        CHECK(h.r.counters().lost_segments == 3);
        CHECK(h.r.counters().flows_evicted == 1);
        CHECK(h.r.flow_count() == 1);
        CHECK(h.r.buffered_bytes() == 0);
        CHECK(h.got.size() == 1);  // the new flow's message
    }
    SUBCASE("a SYN starting a new connection on the same flow") {
        Harness h(limits);
        start_partial_with_two_held(h, 1, 100);
        h.feed(flow_key(1), 101, 5'000'000, tcp_flag::syn, {});
        CHECK(h.r.counters().lost_segments == 3);
        CHECK(h.r.flow_count() == 1);
        CHECK(h.r.buffered_bytes() == 0);
    }
}

TEST_CASE("discard_all closes every flow and counts what each held") {
    Harness h;
    start_partial_with_two_held(h, 1, 100);
    start_partial_with_two_held(h, 2, 100);
    // A flow between messages holds nothing to lose.
    h.feed(flow_key(3), 100, 0, 0, framed(body(5, 65)));
    CHECK(h.r.flow_count() == 3);
    h.r.discard_all();
    CHECK(h.r.counters().lost_segments == 6);
    CHECK(h.r.counters().flows_evicted == 0);
    CHECK(h.r.flow_count() == 0);
    CHECK(h.r.buffered_bytes() == 0);
    // The reassembler stays usable.
    h.feed(flow_key(1), 200, 0, 0, framed(body(5, 66)));
    CHECK(h.got.size() == 2);
    CHECK(h.r.flow_count() == 1);
}

TEST_CASE("a message already being skipped is not counted again when its flow closes") {
    TcpReassemblyLimits limits;
    limits.max_total_bytes = 50;
    Harness h(limits);
    h.feed(flow_key(1), 100, 0, 0, slice(framed(body(100, 67)), 0, 10));  // does not fit: skipped
    CHECK(h.r.counters().lost_segments == 1);
    h.r.discard_all();
    CHECK(h.r.counters().lost_segments == 1);
    CHECK(h.r.flow_count() == 0);
}

TEST_CASE("zero-length messages are counted, never delivered") {
    Harness h;
    const Bytes a = body(12, 60);
    h.syn();
    h.feed(0, cat({Bytes{0, 0}, framed(a), Bytes{0, 0}}));
    REQUIRE(h.got.size() == 1);
    CHECK(h.got[0] == a);
    CHECK(h.r.counters().empty_messages == 2);
    // Zero length split across segments.
    h.feed(18, Bytes{0});
    CHECK(h.r.counters().empty_messages == 2);
    h.feed(19, cat({Bytes{0}, framed(a)}));
    CHECK(h.got.size() == 2);
    CHECK(h.r.counters().messages == 2);
    CHECK(h.r.counters().empty_messages == 3);
    // Nothing of them is lost data, nor kept.
    CHECK(h.r.counters().lost_segments == 0);
    CHECK(h.r.buffered_bytes() == 0);
}

TEST_CASE("zeros where a flow first seen mid-stream only guesses a message start are not counted") {
    Harness h;
    const Bytes a = body(12, 61);
    // Seen from the middle: the zeros may be a header's counts or padding.
    h.feed(500, cat({Bytes{0, 0, 0, 0}, framed(a)}));
    CHECK(h.r.counters().empty_messages == 0);
    REQUIRE(h.got.size() == 1);
    // A whole message put the stream in step: from here zeros are counted.
    h.feed(500 + 4 + static_cast<uint32_t>(a.size() + 2), Bytes{0, 0});
    CHECK(h.r.counters().empty_messages == 1);
}

TEST_CASE("a FIN ahead of a gap: the flow is not remembered, and the late segment is still read") {
    Harness h;
    const Bytes a = body(30, 62), b = body(40, 63);
    const Bytes first = framed(a), second = framed(b);
    const uint32_t second_seq = static_cast<uint32_t>(first.size());
    h.syn();
    // The first segment is late; the second arrives with the FIN.
    h.feed(second_seq, second, tcp_flag::fin, 1);
    CHECK(h.r.flow_count() == 0);
    CHECK(h.r.closed_flow_count() == 0);
    // The network's retransmission of the first: a flow of its own, read.
    h.feed(0, first, 0, 2);
    CHECK(std::find(h.got.begin(), h.got.end(), a) != h.got.end());
}

TEST_CASE("a FIN without data ahead of a gap between messages: counted lost, and the late segment is still read") {
    Harness h;
    const Bytes a = body(30, 64), b = body(40, 65);
    const Bytes first = framed(a), second = framed(b);
    const uint32_t fin_seq = static_cast<uint32_t>(first.size() + second.size());
    h.syn();
    h.feed(0, first, 0, 1);
    REQUIRE(h.got.size() == 1);
    // The second message is late; the server's close overtakes it.
    h.feed(fin_seq, {}, tcp_flag::fin, 2);
    CHECK(h.r.flow_count() == 0);
    CHECK(h.r.closed_flow_count() == 0);
    CHECK(h.r.counters().lost_segments == 1);
    // The network's retransmission of it: a flow of its own, read.
    h.feed(static_cast<uint32_t>(first.size()), second, 0, 3);
    REQUIRE(h.got.size() == 2);
    CHECK(h.got[1] == b);
}

TEST_CASE("a zero-length message is counted wherever the stream puts it") {
    Harness h;
    const Bytes a = body(40, 96);
    const Bytes wire = framed(a);
    h.syn();
    SUBCASE("alone in a segment, then the FIN") {
        h.feed(0, Bytes{0, 0});
        h.feed(2, {}, tcp_flag::fin);
        CHECK(h.got.empty());
    }
    SUBCASE("after the end of a message that began in an earlier segment") {
        h.feed(0, slice(wire, 0, 20));
        h.feed(20, cat({slice(wire, 20, wire.size()), Bytes{0, 0}}), tcp_flag::fin);
        REQUIRE(h.got.size() == 1);
        CHECK(h.got[0] == a);
    }
    SUBCASE("its length prefix split, the second byte held behind a gap") {
        h.feed(0, Bytes{0});
        h.feed(2, wire);
        h.feed(1, Bytes{0});
        REQUIRE(h.got.size() == 1);
        CHECK(h.got[0] == a);
    }
    CHECK(h.r.counters().empty_messages == 1);
    CHECK(h.partials.empty());
    CHECK(h.r.counters().lost_segments == 0);
}

TEST_CASE("directions and sockets are separate flows") {
    Harness h;
    TcpFlowKey up = flow_key(1);
    TcpFlowKey down = up;
    std::swap(down.source, down.destination);
    TcpFlowKey other = flow_key(2);
    const Bytes q = framed(body(30, 61));
    h.feed(up, 0, 0, 0, slice(q, 0, 10));
    h.feed(down, 0, 0, 0, slice(q, 0, 20));
    h.feed(other, 0, 0, 0, slice(q, 0, 5));
    CHECK(h.r.flow_count() == 3);
    h.feed(up, 0, 10, 0, slice(q, 10, q.size()));
    h.feed(down, 0, 20, 0, slice(q, 20, q.size()));
    h.feed(other, 0, 5, 0, slice(q, 5, q.size()));
    CHECK(h.got.size() == 3);
    CHECK(h.r.counters().lost_segments == 0);
    CHECK(TcpFlowKeyHash{}(up) != TcpFlowKeyHash{}(down));
}

namespace {

// Deterministic, so a failure reproduces.
struct Rng {
    uint64_t state;
    uint32_t next() {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<uint32_t>(state >> 33);
    }
    uint32_t below(uint32_t n) { return next() % n; }
};

struct Segment {
    uint32_t offset;
    Bytes data;
};

// A stream of random messages cut into random segments.
void make_stream(Rng& rng, std::vector<Bytes>& messages, Bytes& wire, std::vector<Segment>& segments) {
    const uint32_t count = 20 + rng.below(40);
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t size = rng.below(8) == 0 ? 1000 + rng.below(3000) : 12 + rng.below(200);
        messages.push_back(body(size, static_cast<uint8_t>(rng.next())));
        const Bytes f = framed(messages.back());
        wire.insert(wire.end(), f.begin(), f.end());
    }
    for (size_t at = 0; at < wire.size();) {
        const size_t n = std::min<size_t>(wire.size() - at, 1 + rng.below(rng.below(4) == 0 ? 3 : 1400));
        segments.push_back({static_cast<uint32_t>(at), slice(wire, at, at + n)});
        at += n;
    }
}

}  // namespace

TEST_CASE("random segmentation, duplication and local reordering lose nothing") {
    for (uint64_t seed = 1; seed <= 200; ++seed) {
        CAPTURE(seed);
        Rng rng{seed};
        std::vector<Bytes> messages;
        Bytes wire;
        std::vector<Segment> segments;
        make_stream(rng, messages, wire, segments);
        // Swap neighbours and repeat some segments, as a network might.
        for (size_t i = 0; i + 1 < segments.size(); ++i) {
            if (rng.below(5) == 0)
                std::swap(segments[i], segments[i + 1]);
        }
        std::vector<Segment> sent;
        for (const Segment& s : segments) {
            sent.push_back(s);
            if (rng.below(6) == 0)
                sent.push_back(s);
        }
        Harness h;
        const uint32_t isn = rng.next();
        h.feed(isn, {}, tcp_flag::syn);
        for (const Segment& s : sent)
            h.feed(isn + 1 + s.offset, s.data);
        h.feed(isn + 1 + static_cast<uint32_t>(wire.size()), {}, tcp_flag::fin);
        CHECK(h.r.counters().lost_segments == 0);
        CHECK(h.partials.empty());
        REQUIRE(h.got.size() == messages.size());
        for (size_t i = 0; i < messages.size(); ++i)
            CHECK(h.got[i] == messages[i]);
        CHECK(h.r.flow_count() == 0);
        CHECK(h.r.buffered_bytes() == 0);
    }
}

TEST_CASE("random loss, cuts and reordering of message-aligned segments") {
    // DNS implementations usually write whole messages per send, and then
    // resynchronising at a segment boundary is exact: every message that was
    // captured whole must come out, once, in stream order.
    for (uint64_t seed = 1; seed <= 300; ++seed) {
        CAPTURE(seed);
        Rng rng{seed};
        std::vector<Bytes> messages;
        std::vector<std::pair<uint32_t, uint32_t>> spans;  // offset, framed size
        Bytes wire;
        const uint32_t count = 30 + rng.below(40);
        for (uint32_t i = 0; i < count; ++i) {
            const uint32_t size = 12 + rng.below(300);
            messages.push_back(body(size, static_cast<uint8_t>(rng.next())));
            const Bytes f = framed(messages.back());
            spans.emplace_back(static_cast<uint32_t>(wire.size()), static_cast<uint32_t>(f.size()));
            wire.insert(wire.end(), f.begin(), f.end());
        }
        // Segments of one to three whole messages.
        struct AlignedSegment {
            uint32_t offset;
            uint32_t size;
            size_t first;
            size_t last;
        };
        std::vector<AlignedSegment> segments;
        for (size_t m = 0; m < messages.size();) {
            const size_t n = std::min<size_t>(messages.size() - m, 1 + rng.below(3));
            uint32_t size = 0;
            for (size_t j = m; j < m + n; ++j)
                size += spans[j].second;
            segments.push_back({spans[m].first, size, m, m + n});
            m += n;
        }

        // Room for the other flows' partial messages and flow 1's held
        // segments: running out of budget is tested elsewhere.
        TcpReassemblyLimits limits;
        limits.max_total_bytes = 4 * 902 + 8 * 3 * 302;
        Harness h(limits);
        const uint32_t isn = rng.next();
        uint64_t now = 0;
        std::vector<Bytes> expected;
        std::vector<Bytes> expected_partials;  // what a cut leaves of the message it falls in
        // Whether the stream goes on from a guessed message start, after a
        // loss or a cut that took more than one message's end: then no
        // partial message is reported until a whole one has come.
        bool guessed = false;
        auto send_whole = [&](const AlignedSegment& s) {
            h.feed(flow_key(1), now, isn + s.offset, 0, slice(wire, s.offset, s.offset + s.size));
        };
        auto expect_whole = [&](const AlignedSegment& s) {
            for (size_t j = s.first; j < s.last; ++j)
                expected.push_back(messages[j]);
            guessed = false;
        };
        h.feed(flow_key(1), now, isn - 1, tcp_flag::syn, {});
        for (size_t i = 0; i < segments.size(); ++i) {
            const AlignedSegment& s = segments[i];
            now += rng.below(100'000'000);
            const uint32_t action = rng.below(10);
            if (action == 0) {
                guessed = true;
                continue;  // lost by the capture
            }
            if (action == 1) {
                const uint32_t kept = rng.below(s.size);
                h.feed_cut(flow_key(1), now, isn + s.offset, 0, s.size, slice(wire, s.offset, s.offset + kept));
                const uint32_t end = s.offset + kept;
                for (size_t j = s.first; j < s.last; ++j) {
                    if (spans[j].first + spans[j].second <= end) {
                        expected.push_back(messages[j]);
                        guessed = false;
                        continue;
                    }
                    if (!guessed && end >= spans[j].first + 2 + 12)
                        expected_partials.push_back(slice(messages[j], 0, end - spans[j].first - 2));
                    // Only a cut inside the segment's last message, past its
                    // length, leaves the next message's start known.
                    if (j + 1 != s.last || end < spans[j].first + 2)
                        guessed = true;
                    break;
                }
            } else if (action == 2 && i + 1 < segments.size()) {
                send_whole(segments[i + 1]);
                send_whole(s);
                if (rng.below(2) == 0)
                    send_whole(s);  // and a duplicate
                expect_whole(s);
                expect_whole(segments[i + 1]);
                ++i;
            } else {
                send_whole(s);
                expect_whole(s);
            }
            // Other flows take part of the total budget with partial messages.
            if (rng.below(3) == 0) {
                const uint16_t port = static_cast<uint16_t>(rng.below(4));
                const Bytes partial = slice(framed(body(900, 1)), 0, 100 + rng.below(800));
                h.r.feed(seen_at(flow_key(2, port), now), port * 5000u, 0, static_cast<uint32_t>(partial.size()),
                         partial, [](const MessageContext&, std::span<const uint8_t>, MessageTail) { return true; });
            }
        }
        h.feed(flow_key(1), now, isn + static_cast<uint32_t>(wire.size()), tcp_flag::fin, {});
        REQUIRE(h.got.size() == expected.size());
        for (size_t i = 0; i < expected.size(); ++i)
            CHECK(h.got[i] == expected[i]);
        REQUIRE(h.partials.size() == expected_partials.size());
        for (size_t i = 0; i < expected_partials.size(); ++i) {
            CHECK(h.partials[i].bytes == expected_partials[i]);
            CHECK(h.partials[i].tail == MessageTail::cut);
        }
        h.expire(now + limits.idle_timeout_ns);
        CHECK(h.r.flow_count() == 0);
        CHECK(h.r.buffered_bytes() == 0);
        CHECK(h.r.held_segments() == 0);
    }
}

TEST_CASE("random loss and cuts at random places: the budget balances") {
    for (uint64_t seed = 1; seed <= 300; ++seed) {
        CAPTURE(seed);
        Rng rng{seed};
        std::vector<Bytes> messages;
        Bytes wire;
        std::vector<Segment> segments;
        make_stream(rng, messages, wire, segments);
        TcpReassemblyLimits limits;
        limits.max_total_bytes = 4096 + rng.below(8192);
        limits.max_flows = 3;
        Harness h(limits);
        const uint32_t isn = rng.next();
        uint64_t now = 0;
        for (const Segment& s : segments) {
            now += rng.below(100'000'000);
            const TcpFlowKey key = flow_key(1 + rng.below(4));
            const uint32_t jump = rng.below(10) == 0 ? rng.next() : 0;
            const uint32_t seq = isn + s.offset + jump;
            const uint32_t action = rng.below(10);
            if (action == 0)
                continue;
            if (action == 1 && s.data.size() > 1) {
                const Bytes part = slice(s.data, 0, rng.below(static_cast<uint32_t>(s.data.size())));
                h.feed_cut(key, now, seq, 0, static_cast<uint32_t>(s.data.size()), part);
            } else {
                const uint8_t flags = static_cast<uint8_t>(rng.below(8) == 0 ? rng.below(8) : 0);
                h.feed(key, now, seq, flags, s.data);
            }
            CHECK(h.r.buffered_bytes() <= limits.max_total_bytes);
            CHECK(h.r.flow_count() <= limits.max_flows);
        }
        h.expire(now + limits.idle_timeout_ns);
        CHECK(h.r.flow_count() == 0);
        CHECK(h.r.buffered_bytes() == 0);
        CHECK(h.r.held_segments() == 0);
    }
}
