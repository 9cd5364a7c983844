// Reassembly of DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message is
// preceded by a two-byte length. A segment may carry several messages, and a
// message may span several segments. Every flow and the whole reassembler
// have a byte budget; data that cannot be kept is counted, never silently
// dropped.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <unordered_map>
#include <vector>

#include "intrusive_list.hpp"
#include "message_context.hpp"
#include "packet_event.hpp"
#include "tcp_closed_flows.hpp"
#include "tcp_flow_key.hpp"

namespace dnsvis {

struct TcpReassemblyLimits {
    size_t max_flows = 4096;
    size_t max_flow_bytes = 65535 + 2;           // one maximal DNS message and its prefix
    size_t max_total_bytes = 16u * 1024 * 1024;  // across all flows
    uint64_t idle_timeout_ns = 60'000'000'000;   // a flow with no segment for this long is dropped
    // How long a segment that arrived ahead of a gap waits for the gap to
    // fill. A segment the network lost comes back after Linux's recovery
    // (about a round trip with SACK, else the RTO: 200 ms plus a round trip
    // at least, 1 s on a fresh connection); a capture loss never fills.
    // Waiting long enough for the first costs only a later report of what
    // waited, in the rare second case.
    uint64_t reorder_window_ns = 1'000'000'000;
    // Flows a FIN closed are remembered, this many at most and each for this
    // long after its last sign of life, so that a retransmission of their
    // final segment is not taken for a new flow (see tcp_closed_flows.hpp).
    // A peer whose ACK was lost retransmits with exponential backoff, and
    // each copy resets the clock: 30 s covers every copy sent less than 30 s
    // after the one before (from a 200 ms RTO, the first eight, over some
    // 50 s). Forgetting one only lets a duplicate through, so neither limit
    // can lose data.
    size_t max_closed_flows = 4096;
    uint64_t closed_linger_ns = 30'000'000'000;
};

struct TcpReassemblyCounters {
    uint64_t messages = 0;          // complete messages delivered
    uint64_t partial_messages = 0;  // beginnings delivered of messages whose rest was cut or lost
    // Segments (or parts) discarded: a gap given up, a cut that took more
    // than the rest of one message, budget, and when a flow is closed (RST,
    // eviction, idleness, discard_all) each segment it held plus the message
    // it was assembling, unless that was reported from its beginning. A cut
    // that took only the rest of a message already reported from its
    // beginning, or already counted, is not counted (again): a reported
    // message is not lost, as a cut UDP message is not.
    uint64_t lost_segments = 0;
    uint64_t flows_evicted = 0;  // flows dropped for the flow limit or idleness with data pending
    // Messages whose length prefix was 0. Never delivered (there is nothing
    // to parse), they are counted as malformed, as a DNS message shorter
    // than its header is.
    uint64_t empty_messages = 0;
};

class TcpReassembler {
public:
    // Called for each complete DNS message of a flow, with where the segment
    // whose bytes completed it was seen. The message's time is when its
    // reader could have had it: that segment's arrival, or for a segment held
    // behind a gap, when the gap filled (the socket delivers in order). A
    // gap given up as lost leaves held segments their own arrival time.
    // Also called, with `tail` cut, lost or ended, for the beginning of a
    // message whose rest will never be seen, at least a DNS header of it,
    // timed by the last of its segments that was; the sink returns whether
    // it could report that (if not, it is counted lost). The span is valid
    // only during the call.
    using MessageSink =
        std::function<bool(const MessageContext& seen, std::span<const uint8_t> message, MessageTail tail)>;

    explicit TcpReassembler(TcpReassemblyLimits limits = {});

    // Feeds one TCP segment. Its flow is the socket and the two endpoints in
    // `segment`, one direction of one connection; its timestamp is the
    // reassembler's clock. `payload_len` is the payload length on the wire;
    // `payload` may be shorter when the capture was cut, which is treated as
    // a gap.
    void feed(const MessageContext& segment, uint32_t seq, uint8_t tcp_flags, uint32_t payload_len,
              std::span<const uint8_t> payload, const MessageSink& sink);

    // Gives up gaps older than the reorder window, delivering what was held
    // behind them (a flow's next segment would, but it may never come), and
    // drops flows idle for longer than the limit; forgets closed flows
    // whose time is up.
    void expire(uint64_t now_ns, const MessageSink& sink);

    // Drops every flow, counting what each still held as lost: for shutdown,
    // so that the final counters account for data that never completed.
    // Closed flows are forgotten too.
    void discard_all();

    const TcpReassemblyCounters& counters() const { return counters_; }
    size_t flow_count() const;
    // Flows a FIN closed that are remembered for their retransmissions.
    size_t closed_flow_count() const { return closed_.size(); }
    size_t buffered_bytes() const { return total_bytes_; }
    // Segments waiting behind a gap, across all flows.
    size_t held_segments() const { return held_segments_; }
    uint64_t hash_seed() const { return flows_.hash_function().seed; }
    uint64_t reorder_window_ns() const { return limits_.reorder_window_ns; }

private:
    // Implementation-defined state (the implementer owns everything below).

    // A segment that arrived ahead of the expected sequence number, kept
    // until the gap before it fills or is given up.
    struct HeldSegment {
        uint32_t seq = 0;
        uint32_t wire_len = 0;
        MessageContext seen;        // its arrival time is seen.timestamp_ns
        std::vector<uint8_t> data;  // captured bytes, may be shorter than wire_len
    };

    struct Flow {
        const TcpFlowKey* key = nullptr;  // the map node's own key: nodes never move
        Flow* prev = nullptr;             // in lru_
        Flow* next = nullptr;
        uint64_t last_seen_ns = 0;
        uint32_t next_seq = 0;  // first stream byte not yet consumed
        // Where the stream was first seen: its start, or mid-stream.
        uint32_t first_seq = 0;

        // The message being assembled. header_len == 2 means message_len is
        // known; then message_got body bytes have gone by, kept in `body`
        // unless the message is being discarded.
        uint8_t header[2]{};
        uint8_t header_len = 0;
        bool discarding = false;
        // next_seq was put at a segment boundary after a gap, or where the
        // flow was first seen, as a guess at a message start. Until a whole
        // message confirms it, what is assembled may be garbage and is not
        // reported partially.
        bool start_guessed = false;
        uint32_t message_len = 0;
        uint32_t message_got = 0;
        size_t reserved = 0;  // budget charged for `body`
        std::vector<uint8_t> body;
        uint64_t body_seen_ns = 0;  // when the last bytes in `body` arrived

        std::vector<HeldSegment> held;
        size_t held_bytes = 0;
    };

    // A connection's first data byte, as its SYN announced it: the
    // endpoints of one direction, the sequence number, and whether it was
    // seen leaving or arriving (on loopback each segment is seen both ways,
    // at the sender's socket and at the receiver's).
    struct HandshakeKey {
        Endpoint source;
        Endpoint destination;
        uint32_t data_seq = 0;
        Direction direction = Direction::egress;
        friend bool operator==(const HandshakeKey&, const HandshakeKey&) = default;
    };
    struct HandshakeKeyHash {
        uint64_t seed = 0;
        size_t operator()(const HandshakeKey& k) const noexcept;
    };

    // Copying would leave the LRU pointers aimed at the source's nodes.
    TcpReassembler(const TcpReassembler&) = delete;
    TcpReassembler& operator=(const TcpReassembler&) = delete;

    Flow& create_flow(const TcpFlowKey& key);
    // The flow `key` names, or a new one when this segment may start one
    // (null for pure ACKs, resets and copies of closed flows' segments).
    Flow* find_or_start_flow(const TcpFlowKey& key, Direction direction, uint32_t seq, uint8_t tcp_flags,
                             uint32_t payload_len, uint64_t now_ns, bool& created_mid_stream);
    // On the server side a connection's SYN arrives at the listening
    // socket and its data at the accepted one: two sockets, two flow keys.
    // The flow a SYN started is remembered by where its data will begin, so
    // that the first data under another socket starts exactly there (and
    // the SYN's flow goes) instead of at a guess. Returns whether it did.
    void remember_handshake(const TcpFlowKey& key, Direction direction, uint8_t tcp_flags, const Flow& flow);
    bool continue_handshake(const TcpFlowKey& key, Direction direction, uint32_t seq);
    // A SYN whose sequence number is not a retransmission's: a new
    // connection on the same ports, so the old stream's state goes.
    void restart_if_new_connection(Flow& flow, uint32_t data_seq);
    // The FIN ends the stream at `end_seq`: what is left is reported or
    // counted, and the flow is forgotten (and remembered as closed).
    void close_on_fin(Flow& flow, const TcpFlowKey& key, const MessageContext& segment, uint32_t end_seq,
                      bool created_mid_stream, const MessageSink& sink);
    void close_flow(Flow& flow);
    void discard_flow(Flow& flow);
    void touch(Flow& flow);
    static size_t pending_losses(const Flow& flow);
    void reset_message(Flow& flow);
    void reset_stream(Flow& flow);
    void begin_message(Flow& flow, uint32_t length);
    // A length prefix of 0, wherever the stream puts it.
    void count_empty_message(const Flow& flow);
    void deliver(Flow& flow, const MessageContext& seen, std::span<const uint8_t> message, const MessageSink& sink);
    // Hands over what arrived of the message being assembled, if a DNS
    // header's worth, when the rest of it is gone; `after` is where the
    // stream was seen going on. Returns whether it did.
    bool deliver_partial(Flow& flow, const MessageContext& after, MessageTail tail, const MessageSink& sink);
    // The stream ends (FIN, RST) at end_seq: reports what came of the
    // message it ends inside of.
    void end_stream(Flow& flow, const MessageContext& seen, uint32_t end_seq, const MessageSink& sink);
    // Returns whether it dropped the rest of `bytes` (counted), as a
    // guessed message start that cannot be one.
    bool consume(Flow& flow, const MessageContext& seen, std::span<const uint8_t> bytes, const MessageSink& sink);
    void process(Flow& flow, const MessageContext& seen, uint32_t seq, uint32_t wire_len,
                 std::span<const uint8_t> captured, const MessageSink& sink);
    void apply(Flow& flow, const MessageContext& seen, uint32_t seq, uint32_t wire_len,
               std::span<const uint8_t> captured, const MessageSink& sink);
    bool hold(Flow& flow, const MessageContext& seen, uint32_t seq, uint32_t wire_len,
              std::span<const uint8_t> captured);
    // Takes a held segment out of its flow and gives back its budget.
    HeldSegment take_held(Flow& flow, size_t index);
    // Applies the held segments the stream has reached, none of them seen
    // by the reader before `not_before_ns`.
    void drain(Flow& flow, uint64_t not_before_ns, const MessageSink& sink);
    // Moves the stream past [next_seq, to), bytes cut from the capture or
    // lost. Returns whether they held nothing but the rest of the message
    // being assembled, which is accounted for: reported from its beginning,
    // or counted lost when its skipping began.
    bool skip_gap(Flow& flow, uint32_t to, const MessageContext& after, MessageTail tail, const MessageSink& sink);
    void give_up_gap(Flow& flow, const MessageSink& sink);
    void give_up_stale_gaps(Flow& flow, uint64_t now_ns, const MessageSink& sink);
    size_t earliest_held(const Flow& flow) const;

    TcpReassemblyLimits limits_;
    TcpReassemblyCounters counters_;
    size_t total_bytes_ = 0;
    size_t held_segments_ = 0;
    std::unordered_map<TcpFlowKey, Flow, TcpFlowKeyHash> flows_;
    IntrusiveList<Flow> lru_;  // front: least recently used
    TcpClosedFlows closed_;    // after flows_: hashed with its seed
    // Flows a SYN started, by where their data will begin (see
    // remember_handshake()). A hint only, checked against the flow when
    // used; forgotten all at once when there are as many as max_flows.
    std::unordered_map<HandshakeKey, TcpFlowKey, HandshakeKeyHash> handshakes_;
};

}  // namespace dnsvis
