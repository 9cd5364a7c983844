// libFuzzer target for DNS-over-TCP reassembly: TCP segments are untrusted
// input too (with ServerSide=yes remote clients write them), and the
// reassembler keeps state across them, within budgets.
//
// The input is a script of segments over four flows (format below). Besides
// "no crash, no sanitizer report", it checks what the daemon relies on and
// aborts when one is broken: the budgets hold after every step, no message is
// empty or longer than DNS allows, a partial message holds at least a DNS
// header, no message is dated after the clock, and dropping every flow gives
// back every byte.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tcp_reassembly.hpp"
#include "fuzz_require.hpp"

using namespace dnsvis;
using dnsvis::fuzz::require;

namespace {

// One step, 8 bytes and then its payload:
//   [0]    flow (bits 0-1); SYN (bit 2), FIN (bit 3), RST (bit 4); expire after the step (bit 5)
//   [1..2] stream offset of the segment, big-endian, from the flow's initial sequence number
//   [3..4] captured payload length, big-endian (cut short by the end of the input)
//   [5]    bytes on the wire beyond the captured ones (a capture cut at the snap length)
//   [6]    clock advance before the step, in 16 ms units (the reorder window is 1 s)
//   [7]    reserved
constexpr size_t kStepHeader = 8;
constexpr uint64_t kTick = 16'000'000;

TcpFlowKey flow_key(unsigned index) {
    TcpFlowKey key;
    key.socket_cookie = 100 + index % 2;  // two sockets, two directions each
    key.source.address = {10, 0, 0, static_cast<uint8_t>(1 + index / 2)};
    key.source.port = static_cast<uint16_t>(40000 + index);
    key.destination.address = {10, 0, 0, 53};
    key.destination.port = 53;
    return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Small budgets, so that inputs of a few KiB reach every limit.
    TcpReassemblyLimits limits;
    limits.max_flows = 3;
    limits.max_flow_bytes = 3000;
    limits.max_total_bytes = 6000;
    limits.idle_timeout_ns = 5'000'000'000;
    TcpReassembler reassembler(limits);

    uint64_t now = 1;
    uint64_t whole = 0, partial = 0;
    const TcpReassembler::MessageSink sink = [&](const MessageContext& seen, std::span<const uint8_t> message,
                                                 MessageTail tail) {
        require(!message.empty() && message.size() <= 0xffff);
        require(seen.timestamp_ns <= now);
        if (tail == MessageTail::whole) {
            ++whole;
            return true;
        }
        require(message.size() >= 12);
        // Taken or refused, as the daemon refuses a partial message that
        // stops before its question: both paths must keep the books.
        if (message[5] & 1)
            return false;
        ++partial;
        return true;
    };

    // Initial sequence numbers near the wrap, so that streams cross 2^32.
    constexpr uint32_t isn[4] = {0xffff0000u, 0, 0x7fffffffu, 0xfffffff0u};
    std::span<const uint8_t> input(data, size);
    while (input.size() >= kStepHeader) {
        const uint8_t control = input[0];
        const unsigned flow = control & 3;
        const uint32_t offset = (uint32_t{input[1]} << 8) | input[2];
        size_t captured = (size_t{input[3]} << 8) | input[4];
        const uint32_t uncaptured = input[5];
        now += input[6] * kTick;
        input = input.subspan(kStepHeader);
        captured = std::min(captured, input.size());
        const std::span<const uint8_t> payload = input.first(captured);
        input = input.subspan(captured);

        uint8_t flags = 0;
        if (control & 4)
            flags |= tcp_flag::syn;
        if (control & 8)
            flags |= tcp_flag::fin;
        if (control & 16)
            flags |= tcp_flag::rst;
        MessageContext seen;
        seen.timestamp_ns = now;
        seen.transport = Transport::tcp;
        const TcpFlowKey key = flow_key(flow);
        seen.socket_cookie = key.socket_cookie;
        seen.source = key.source;
        seen.destination = key.destination;
        // A SYN carries the initial sequence number; data starts one after.
        const uint32_t seq = isn[flow] + ((flags & tcp_flag::syn) ? 0 : 1) + offset;
        reassembler.feed(seen, seq, flags, static_cast<uint32_t>(captured) + uncaptured, payload, sink);
        if (control & 32)
            reassembler.expire(now, sink);

        require(reassembler.buffered_bytes() <= limits.max_total_bytes);
        require(reassembler.flow_count() <= limits.max_flows);
    }
    now += limits.reorder_window_ns;
    reassembler.expire(now, sink);
    require(reassembler.held_segments() == 0);

    reassembler.discard_all();
    require(reassembler.flow_count() == 0);
    require(reassembler.buffered_bytes() == 0);
    require(reassembler.held_segments() == 0);
    require(reassembler.counters().messages == whole);
    require(reassembler.counters().partial_messages == partial);
    return 0;
}
