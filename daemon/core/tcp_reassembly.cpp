#include "tcp_reassembly.hpp"

#include "hash_mix.hpp"
#include "hash_seed.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace dnsvis {

namespace {

// Segments held per flow while waiting for a gap to fill.
constexpr size_t kMaxHeldSegments = 8;

// A SYN whose first data byte lies at most this far behind the expected one is
// a retransmission of the SYN we already used, not a new connection.
constexpr int32_t kSynRetransmitWindow = 1 << 20;

constexpr size_t kNone = std::numeric_limits<size_t>::max();
// Less than a DNS header identifies no transaction: not worth reporting.
constexpr uint32_t kDnsHeaderSize = 12;

// Sequence numbers wrap at 2^32 (RFC 9293 3.4): compare by signed distance.
int32_t seq_diff(uint32_t a, uint32_t b) {
    return static_cast<int32_t>(a - b);
}

uint32_t read_be16(uint8_t high, uint8_t low) {
    return (uint32_t{high} << 8) | low;
}

// Whether a length prefix and the bytes after it may begin a DNS message.
// Asked where a message's start is only guessed, so that bytes from inside
// one are not taken for a message, whose made-up length would swallow the
// real messages behind it: a real one asks at most one question, has record
// counts its length can hold, and a defined opcode (QUERY, IQUERY, STATUS,
// NOTIFY, UPDATE, DSO). Where no whole header follows in this segment, or
// the length holds none (counted as malformed if it is taken), there is
// nothing to judge.
bool looks_like_message_start(uint32_t length, std::span<const uint8_t> after) {
    if (length < kDnsHeaderSize || after.size() < kDnsHeaderSize)
        return true;
    const uint32_t opcode = (after[2] >> 3) & 0xf;
    if (opcode == 3 || opcode > 6)
        return false;
    const uint32_t questions = read_be16(after[4], after[5]);
    const uint32_t records =
        read_be16(after[6], after[7]) + read_be16(after[8], after[9]) + read_be16(after[10], after[11]);
    constexpr uint32_t kSmallestQuestion = 5;  // the root, type and class
    constexpr uint32_t kSmallestRecord = 11;   // the root, type, class, TTL and an empty rdata
    return questions <= 1 && kDnsHeaderSize + kSmallestQuestion * questions + kSmallestRecord * records <= length;
}

}  // namespace

TcpReassembler::TcpReassembler(TcpReassemblyLimits limits)
    : limits_(limits),
      flows_(0, TcpFlowKeyHash{random_hash_seed(this)}),
      closed_(limits.max_closed_flows, limits.closed_linger_ns, flows_.hash_function()),
      handshakes_(0, HandshakeKeyHash{flows_.hash_function().seed}) {
    // A limit of zero flows would make every segment evict itself.
    limits_.max_flows = std::max<size_t>(limits_.max_flows, 1);
    flows_.reserve(std::min<size_t>(limits_.max_flows, 1u << 16));
}

size_t TcpReassembler::flow_count() const {
    return flows_.size();
}

// What dropping the flow's state would lose, in the unit of lost_segments:
// each held segment, and the message being assembled. A message already being
// discarded was counted when its discarding began.
size_t TcpReassembler::pending_losses(const Flow& flow) {
    const bool partial_message = flow.header_len > 0 && !flow.discarding;
    return flow.held.size() + (partial_message ? 1 : 0);
}

void TcpReassembler::touch(Flow& flow) {
    if (lru_.back() == &flow)
        return;
    lru_.unlink(flow);
    lru_.push_back(flow);
}

TcpReassembler::Flow& TcpReassembler::create_flow(const TcpFlowKey& key) {
    if (flows_.size() >= limits_.max_flows && !lru_.empty()) {
        Flow& victim = *lru_.front();
        ++counters_.flows_evicted;
        discard_flow(victim);
    }
    auto [it, inserted] = flows_.try_emplace(key);
    Flow& flow = it->second;
    flow.key = &it->first;
    lru_.push_back(flow);
    return flow;
}

void TcpReassembler::close_flow(Flow& flow) {
    reset_stream(flow);
    lru_.unlink(flow);
    // Erase by iterator: erasing by a key that lives in the node itself is
    // asking for trouble.
    flows_.erase(flows_.find(*flow.key));
}

void TcpReassembler::discard_flow(Flow& flow) {
    counters_.lost_segments += pending_losses(flow);
    close_flow(flow);
}

void TcpReassembler::reset_message(Flow& flow) {
    total_bytes_ -= flow.reserved;
    flow.reserved = 0;
    // Give the memory back: a flow may sit idle for a long time after one
    // large message, and the budget only counts what is in use.
    std::vector<uint8_t>().swap(flow.body);
    flow.header_len = 0;
    flow.discarding = false;
    flow.message_len = 0;
    flow.message_got = 0;
}

void TcpReassembler::reset_stream(Flow& flow) {
    reset_message(flow);
    total_bytes_ -= flow.held_bytes;
    flow.held_bytes = 0;
    held_segments_ -= flow.held.size();
    flow.held.clear();
}

void TcpReassembler::count_empty_message(const Flow& flow) {
    // Nothing to deliver, but not nothing sent: counted like any DNS message
    // too short for a header. Where the message boundaries are only guessed
    // (a flow first seen mid-stream), zeros are more likely a header's or
    // padding's than an empty message: not counted.
    if (!flow.start_guessed)
        ++counters_.empty_messages;
}

void TcpReassembler::begin_message(Flow& flow, uint32_t length) {
    flow.header_len = 2;
    flow.message_len = length;
    flow.message_got = 0;
    flow.discarding = false;
    if (length == 0) {
        // The next byte starts another length prefix.
        count_empty_message(flow);
        flow.header_len = 0;
        return;
    }
    // Charge the whole message up front so that it can never fail half way.
    const size_t need = size_t{length} + 2;
    if (need + flow.held_bytes > limits_.max_flow_bytes || total_bytes_ + need > limits_.max_total_bytes) {
        // Its length is known, so the stream stays in step: skip its body.
        ++counters_.lost_segments;
        flow.discarding = true;
        return;
    }
    flow.reserved = need;
    total_bytes_ += need;
    flow.body.reserve(length);
}

void TcpReassembler::deliver(Flow& flow, const MessageContext& seen, std::span<const uint8_t> message,
                             const MessageSink& sink) {
    ++counters_.messages;
    flow.start_guessed = false;  // a whole message: the stream is in step
    sink(seen, message, MessageTail::whole);
}

bool TcpReassembler::deliver_partial(Flow& flow, const MessageContext& after, MessageTail tail,
                                     const MessageSink& sink) {
    if (flow.header_len != 2 || flow.discarding || flow.start_guessed || flow.message_got < kDnsHeaderSize)
        return false;
    // The socket, endpoints and owner are the flow's; the time is that of
    // the message's own last captured bytes: the reader had the message no
    // earlier, and a capture loss is usually of the very next segment.
    MessageContext seen = after;
    seen.timestamp_ns = flow.body_seen_ns;
    if (!sink(seen, flow.body, tail))
        return false;
    ++counters_.partial_messages;
    return true;
}

void TcpReassembler::end_stream(Flow& flow, const MessageContext& seen, uint32_t end_seq, const MessageSink& sink) {
    // Where the stream ends beyond what was captured, segments before the
    // end were lost; where it ends right there, the sender stopped inside
    // the message, and a report of what came loses nothing.
    const bool gap = seq_diff(end_seq, flow.next_seq) > 0;
    if (deliver_partial(flow, seen, gap ? MessageTail::lost : MessageTail::ended, sink) && !gap)
        flow.discarding = true;  // accounted for: not to be counted when the flow closes
}

bool TcpReassembler::consume(Flow& flow, const MessageContext& seen, std::span<const uint8_t> bytes,
                             const MessageSink& sink) {
    while (!bytes.empty()) {
        if (flow.header_len == 0) {
            if (bytes.size() >= 2) {
                const uint32_t length = read_be16(bytes[0], bytes[1]);
                if (flow.start_guessed && !looks_like_message_start(length, bytes.subspan(2))) {
                    // Inside a message after all: the next segment is the
                    // next guess. What is left of this one is lost.
                    ++counters_.lost_segments;
                    return true;
                }
                if (bytes.size() - 2 >= length) {
                    // The common case: the whole message is in this segment,
                    // so hand it over without copying. An empty one is
                    // counted instead.
                    if (length > 0)
                        deliver(flow, seen, bytes.subspan(2, length), sink);
                    else
                        count_empty_message(flow);
                    bytes = bytes.subspan(2 + length);
                    continue;
                }
                bytes = bytes.subspan(2);
                begin_message(flow, length);
                continue;
            }
            flow.header[0] = bytes[0];
            flow.header_len = 1;
            return false;
        }
        if (flow.header_len == 1) {
            flow.header[1] = bytes[0];
            bytes = bytes.subspan(1);
            begin_message(flow, read_be16(flow.header[0], flow.header[1]));
            continue;
        }
        const size_t n = std::min<size_t>(bytes.size(), flow.message_len - flow.message_got);
        if (!flow.discarding) {
            flow.body.insert(flow.body.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
            flow.body_seen_ns = seen.timestamp_ns;
        }
        flow.message_got += static_cast<uint32_t>(n);
        bytes = bytes.subspan(n);
        if (flow.message_got == flow.message_len) {
            if (!flow.discarding)
                deliver(flow, seen, flow.body, sink);
            reset_message(flow);
        }
    }
    return false;
}

bool TcpReassembler::skip_gap(Flow& flow, uint32_t to, const MessageContext& after, MessageTail tail,
                              const MessageSink& sink) {
    if (flow.header_len == 2) {
        const uint32_t message_end = flow.next_seq + (flow.message_len - flow.message_got);
        const int32_t beyond = seq_diff(message_end, to);
        // A message already being skipped was reported from its beginning,
        // or counted lost, when its skipping began: losing more of its rest
        // loses nothing new.
        const bool accounted = flow.discarding || deliver_partial(flow, after, tail, sink);
        if (beyond > 0) {
            // The gap lies inside the current message. Its length says
            // exactly where the next one starts, which is better than
            // guessing at a segment boundary: skip the rest of it.
            const uint32_t length = flow.message_len;
            reset_message(flow);
            flow.header_len = 2;
            flow.discarding = true;
            flow.message_len = length;
            flow.message_got = length - static_cast<uint32_t>(beyond);
            flow.next_seq = to;
            return accounted;
        }
        if (beyond == 0) {
            // The gap ends where the message does: the next starts at `to`.
            reset_message(flow);
            flow.next_seq = to;
            return accounted;
        }
    }
    // Where the next message starts is unknown: guess that the segment after
    // the gap starts one, as DNS implementations usually write a message per
    // send. The parser rejects the garbage when the guess is wrong, and no
    // partial message is made of it until a whole one has confirmed it.
    reset_message(flow);
    flow.next_seq = to;
    flow.start_guessed = true;
    return false;
}

void TcpReassembler::apply(Flow& flow, const MessageContext& seen, uint32_t seq, uint32_t wire_len,
                           std::span<const uint8_t> captured, const MessageSink& sink) {
    const uint32_t skip = flow.next_seq - seq;  // bytes already seen
    if (skip >= wire_len)
        return;  // a pure retransmission
    const uint32_t have = static_cast<uint32_t>(captured.size());
    bool rest_dropped = false;  // and counted, by consume()
    if (skip < have) {
        rest_dropped = consume(flow, seen, captured.subspan(skip), sink);
        flow.next_seq = seq + have;
    }
    if (have < wire_len) {
        // The capture was cut: the rest of the segment is a gap. Only the
        // end of a message that is reported anyway is no loss.
        if (!skip_gap(flow, seq + wire_len, seen, MessageTail::cut, sink) && !rest_dropped)
            ++counters_.lost_segments;
    } else {
        flow.next_seq = seq + wire_len;
    }
}

TcpReassembler::HeldSegment TcpReassembler::take_held(Flow& flow, size_t index) {
    HeldSegment segment = std::move(flow.held[index]);
    flow.held.erase(flow.held.begin() + static_cast<ptrdiff_t>(index));
    total_bytes_ -= segment.data.size();
    flow.held_bytes -= segment.data.size();
    --held_segments_;
    return segment;
}

bool TcpReassembler::hold(Flow& flow, const MessageContext& seen, uint32_t seq, uint32_t wire_len,
                          std::span<const uint8_t> captured) {
    for (size_t i = 0; i < flow.held.size(); ++i) {
        HeldSegment& other = flow.held[i];
        if (other.seq != seq)
            continue;
        if (other.wire_len >= wire_len && other.data.size() >= captured.size())
            return true;     // a retransmission of a segment already held
        take_held(flow, i);  // replaced by the longer copy below
        break;
    }
    if (flow.held.size() >= kMaxHeldSegments)
        return false;
    const size_t need = captured.size();
    if (flow.reserved + flow.held_bytes + need > limits_.max_flow_bytes ||
        total_bytes_ + need > limits_.max_total_bytes)
        return false;
    HeldSegment& segment = flow.held.emplace_back();
    segment.seq = seq;
    segment.wire_len = wire_len;
    segment.seen = seen;
    segment.data.assign(captured.begin(), captured.end());
    flow.held_bytes += need;
    total_bytes_ += need;
    ++held_segments_;
    return true;
}

void TcpReassembler::drain(Flow& flow, uint64_t not_before_ns, const MessageSink& sink) {
    for (;;) {
        size_t index = kNone;
        for (size_t i = 0; i < flow.held.size(); ++i) {
            if (seq_diff(flow.held[i].seq, flow.next_seq) <= 0) {
                index = i;
                break;
            }
        }
        if (index == kNone)
            return;
        // Its budget is released first: its bytes may start a message that needs it.
        HeldSegment segment = take_held(flow, index);
        segment.seen.timestamp_ns = std::max(segment.seen.timestamp_ns, not_before_ns);
        apply(flow, segment.seen, segment.seq, segment.wire_len, segment.data, sink);
    }
}

size_t TcpReassembler::earliest_held(const Flow& flow) const {
    size_t best = kNone;
    uint32_t best_distance = 0;
    for (size_t i = 0; i < flow.held.size(); ++i) {
        const uint32_t distance = flow.held[i].seq - flow.next_seq;
        if (best == kNone || distance < best_distance) {
            best = i;
            best_distance = distance;
        }
    }
    return best;
}

void TcpReassembler::give_up_gap(Flow& flow, const MessageSink& sink) {
    const size_t index = earliest_held(flow);
    if (index == kNone)
        return;
    ++counters_.lost_segments;
    skip_gap(flow, flow.held[index].seq, flow.held[index].seen, MessageTail::lost, sink);
    drain(flow, 0, sink);  // the gap is lost: what waited keeps its own time
}

void TcpReassembler::give_up_stale_gaps(Flow& flow, uint64_t now_ns, const MessageSink& sink) {
    while (!flow.held.empty()) {
        uint64_t oldest = flow.held.front().seen.timestamp_ns;
        for (const HeldSegment& segment : flow.held)
            oldest = std::min(oldest, segment.seen.timestamp_ns);
        if (now_ns < oldest || now_ns - oldest < limits_.reorder_window_ns)
            return;
        give_up_gap(flow, sink);
    }
}

void TcpReassembler::process(Flow& flow, const MessageContext& seen, uint32_t seq, uint32_t wire_len,
                             std::span<const uint8_t> captured, const MessageSink& sink) {
    while (seq_diff(seq, flow.next_seq) > 0) {
        if (hold(flow, seen, seq, wire_len, captured))
            return;
        // No room to wait for the gap any longer. Held segments before this
        // one are applied first so that the stream stays in order.
        const size_t index = earliest_held(flow);
        if (index != kNone && seq_diff(flow.held[index].seq, seq) < 0) {
            give_up_gap(flow, sink);
        } else {
            ++counters_.lost_segments;
            skip_gap(flow, seq, seen, MessageTail::lost, sink);
        }
    }
    apply(flow, seen, seq, wire_len, captured, sink);
    drain(flow, seen.timestamp_ns, sink);
}

TcpReassembler::Flow* TcpReassembler::find_or_start_flow(const TcpFlowKey& key, Direction direction, uint32_t seq,
                                                         uint8_t tcp_flags, uint32_t payload_len, uint64_t now_ns,
                                                         bool& created_mid_stream) {
    const bool syn = (tcp_flags & tcp_flag::syn) != 0;
    const bool fin = (tcp_flags & tcp_flag::fin) != 0;
    const bool rst = (tcp_flags & tcp_flag::rst) != 0;
    created_mid_stream = false;
    if (auto it = flows_.find(key); it != flows_.end()) {
        touch(it->second);
        return &it->second;
    }
    // Pure ACKs and the ends of forgotten flows must not push live flows
    // out of the table.
    if (rst || (!syn && payload_len == 0))
        return nullptr;
    // A copy of what a flow a FIN closed already went through: its
    // peer did not hear the ACK for its final segment. Whatever the
    // copy holds was reported, or counted lost, when the flow closed.
    // A SYN starts a new connection on the same ports, whatever its
    // sequence number.
    if (!syn && closed_.covers(key, seq, payload_len + (fin ? 1 : 0), now_ns))
        return nullptr;
    closed_.forget(key);
    const bool known_start = syn || continue_handshake(key, direction, seq);
    Flow* flow = &create_flow(key);
    // Without a SYN the flow was first seen mid-stream: start here,
    // which is a guess until a whole message confirms it.
    flow->next_seq = syn ? seq + 1 : seq;
    flow->first_seq = flow->next_seq;
    flow->start_guessed = !known_start;
    created_mid_stream = !known_start;
    return flow;
}

size_t TcpReassembler::HandshakeKeyHash::operator()(const HandshakeKey& k) const noexcept {
    uint64_t h = mix(seed, (uint64_t{static_cast<uint8_t>(k.direction)} << 32) | k.data_seq);
    h = mix_endpoint(h, k.source);
    h = mix_endpoint(h, k.destination);
    return static_cast<size_t>(h ^ (h >> 32));
}

void TcpReassembler::remember_handshake(const TcpFlowKey& key, Direction direction, uint8_t tcp_flags,
                                        const Flow& flow) {
    // The server's half of a handshake: the client's SYN arriving (at the
    // listener), the server's SYN-ACK leaving (from it). A client's SYN and
    // the SYN-ACK it gets are on the socket that carries the data.
    const bool ack = (tcp_flags & tcp_flag::ack) != 0;
    if (ack != (direction == Direction::egress))
        return;
    if (flow.first_seq != flow.next_seq || flow.start_guessed)
        return;  // it carried data already: it is the connection's own flow
    if (handshakes_.size() >= limits_.max_flows)
        handshakes_.clear();  // handshakes that data never followed (scans, floods)
    handshakes_.insert_or_assign(HandshakeKey{key.source, key.destination, flow.next_seq, direction}, key);
}

bool TcpReassembler::continue_handshake(const TcpFlowKey& key, Direction direction, uint32_t seq) {
    const auto hint = handshakes_.find(HandshakeKey{key.source, key.destination, seq, direction});
    if (hint == handshakes_.end())
        return false;
    const TcpFlowKey syn_key = hint->second;
    handshakes_.erase(hint);
    const auto it = flows_.find(syn_key);
    if (it == flows_.end())
        return false;
    // Only a flow that is still nothing but its SYN: one that carried data
    // is a connection of its own.
    const Flow& syn_flow = it->second;
    if (syn_flow.start_guessed || syn_flow.next_seq != seq || syn_flow.first_seq != seq || !syn_flow.held.empty() ||
        syn_flow.header_len != 0)
        return false;
    discard_flow(it->second);
    return true;
}

void TcpReassembler::restart_if_new_connection(Flow& flow, uint32_t data_seq) {
    const int32_t d = seq_diff(data_seq, flow.next_seq);
    if (d > 0 || d < -kSynRetransmitWindow) {
        // A new initial sequence number: a new connection.
        counters_.lost_segments += pending_losses(flow);
        reset_stream(flow);
        flow.next_seq = data_seq;
        flow.first_seq = data_seq;
        flow.start_guessed = false;
    }
}

void TcpReassembler::close_on_fin(Flow& flow, const TcpFlowKey& key, const MessageContext& segment, uint32_t end_seq,
                                  bool created_mid_stream, const MessageSink& sink) {
    // A FIN ahead of a gap: the network may still bring what is
    // missing, as a flow of its own (see below), so such a flow is not
    // remembered as closed. A FIN without data is never held, so a gap
    // just before it shows only as a FIN beyond what was read.
    const bool held_gaps = !flow.held.empty();
    while (!flow.held.empty())
        give_up_gap(flow, sink);
    const bool unread_before_fin = seq_diff(end_seq, flow.next_seq) > 0;
    const bool gaps_open = held_gaps || unread_before_fin;
    // Held segments were all applied above, so at most a message the
    // stream ended inside of is left. What came of it is reported,
    // unless this segment is all that was seen of the flow: then it may
    // be a retransmission of a final segment whose flow closed so long
    // ago, or so many flows ago, that it is no longer remembered, and
    // what came of the message was reported then. Closing the flow
    // counts it lost: the safe side if it was not.
    if (!created_mid_stream) {
        // Bytes before the FIN that never came, between two messages:
        // nothing is left to report, but a segment was lost (inside a
        // message, end_stream reports and counts it).
        if (unread_before_fin && pending_losses(flow) == 0)
            ++counters_.lost_segments;
        end_stream(flow, segment, end_seq, sink);
    }
    // Remembered from where it was first seen to just past the FIN.
    const uint32_t first_seq = flow.first_seq;
    discard_flow(flow);
    if (!gaps_open)
        closed_.remember(key, first_seq, end_seq + 1, segment.timestamp_ns);
}

void TcpReassembler::feed(const MessageContext& segment, uint32_t seq, uint8_t tcp_flags, uint32_t payload_len,
                          std::span<const uint8_t> payload, const MessageSink& sink) {
    const TcpFlowKey key{segment.socket_cookie, segment.source, segment.destination};
    const uint64_t now_ns = segment.timestamp_ns;
    if (payload.size() > payload_len)
        payload = payload.first(payload_len);

    bool created_mid_stream = false;
    Flow* flow = find_or_start_flow(key, segment.direction, seq, tcp_flags, payload_len, now_ns, created_mid_stream);
    if (!flow)
        return;
    flow->last_seen_ns = now_ns;

    if (tcp_flags & tcp_flag::rst) {
        // RST payload is not stream data (RFC 9293 3.5.3). A message the
        // reset cut short is reported from what came of it; what was held
        // behind a gap never reached the reader, and is counted lost.
        end_stream(*flow, segment, seq, sink);
        discard_flow(*flow);
        return;
    }

    uint32_t data_seq = seq;
    if (tcp_flags & tcp_flag::syn) {
        data_seq = seq + 1;  // the SYN occupies one sequence number
        restart_if_new_connection(*flow, data_seq);
        remember_handshake(key, segment.direction, tcp_flags, *flow);
    }

    give_up_stale_gaps(*flow, now_ns, sink);

    if (payload_len > 0)
        process(*flow, segment, data_seq, payload_len, payload, sink);

    if (tcp_flags & tcp_flag::fin)
        close_on_fin(*flow, key, segment, data_seq + payload_len, created_mid_stream, sink);
}

void TcpReassembler::expire(uint64_t now_ns, const MessageSink& sink) {
    // Only a capture loss or reordering leaves segments held, so the walk
    // over every flow is rare.
    if (held_segments_ > 0) {
        for (auto& [key, flow] : flows_)
            give_up_stale_gaps(flow, now_ns, sink);
    }
    // The LRU list is in order of last activity, so idle flows are at its head.
    while (!lru_.empty()) {
        Flow& flow = *lru_.front();
        if (now_ns < flow.last_seen_ns || now_ns - flow.last_seen_ns < limits_.idle_timeout_ns)
            break;
        if (pending_losses(flow) > 0)
            ++counters_.flows_evicted;
        discard_flow(flow);
    }
    closed_.expire(now_ns);
}

void TcpReassembler::discard_all() {
    while (!lru_.empty())
        discard_flow(*lru_.front());
    closed_.clear();
    handshakes_.clear();
}

}  // namespace dnsvis
