// The TCP flows a FIN closed a moment ago, and which stretch of sequence
// space each had covered, so that the reassembler knows a retransmission of
// their last segments for one. On a lossy link the peer sends its final
// data+FIN segment again when the ACK for it is lost; without this memory
// that copy looks like a new flow first seen mid-stream, and any whole DNS
// message in it would be reported a second time.
//
// The memory is bounded in time and in count, so that neither a busy server
// nor a peer closing connections on purpose can make it grow. Forgetting a
// closed flow early loses no data: it only lets a duplicate through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "intrusive_list.hpp"
#include "tcp_flow_key.hpp"

namespace dnsvis {

class TcpClosedFlows {
public:
    // At most `max_flows` are kept (at least one); each for `linger_ns`
    // after it closed or last showed a retransmission.
    TcpClosedFlows(size_t max_flows, uint64_t linger_ns, TcpFlowKeyHash hash);

    // The stream of `key` covered [start, end) and is over: `end` is the
    // sequence number just past its FIN. Replaces what was kept for `key`.
    void remember(const TcpFlowKey& key, uint32_t start, uint32_t end, uint64_t now_ns);

    // Whether a segment of `key` occupying [seq, seq + length) of sequence
    // space lies wholly within what a closed flow kept for `key` covered: a
    // retransmission. The flow is then kept for another `linger_ns`, since
    // its peer is evidently still retransmitting.
    bool covers(const TcpFlowKey& key, uint32_t seq, uint32_t length, uint64_t now_ns);

    // A new stream takes over `key` (a SYN, or data beyond the old end).
    void forget(const TcpFlowKey& key);

    // Forgets the flows whose time is up. Only frees memory: covers()
    // checks the time itself, so a late call changes no answer.
    void expire(uint64_t now_ns);

    void clear();
    size_t size() const { return flows_.size(); }

private:
    struct Closed {
        const TcpFlowKey* key = nullptr;  // the map node's own key: nodes never move
        Closed* prev = nullptr;           // in order_
        Closed* next = nullptr;
        uint64_t last_seen_ns = 0;
        uint32_t start = 0;
        uint32_t end = 0;
    };

    // Copying would leave the list pointers aimed at the source's nodes.
    TcpClosedFlows(const TcpClosedFlows&) = delete;
    TcpClosedFlows& operator=(const TcpClosedFlows&) = delete;

    bool expired(const Closed& closed, uint64_t now_ns) const;
    void erase(Closed& closed);

    size_t max_flows_;
    uint64_t linger_ns_;
    std::unordered_map<TcpFlowKey, Closed, TcpFlowKeyHash> flows_;
    // Front: the one seen longest ago. Every record lingers equally long,
    // so this is also the order in which their time runs out (near enough:
    // events from different CPUs may come a little out of time order, and
    // covers() checks the time itself).
    IntrusiveList<Closed> order_;
};

}  // namespace dnsvis
