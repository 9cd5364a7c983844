#include "tcp_closed_flows.hpp"

#include <algorithm>

namespace dnsvis {

TcpClosedFlows::TcpClosedFlows(size_t max_flows, uint64_t linger_ns, TcpFlowKeyHash hash)
    : max_flows_(std::max<size_t>(max_flows, 1)), linger_ns_(linger_ns), flows_(0, hash) {}

bool TcpClosedFlows::expired(const Closed& closed, uint64_t now_ns) const {
    return now_ns >= closed.last_seen_ns && now_ns - closed.last_seen_ns >= linger_ns_;
}

void TcpClosedFlows::erase(Closed& closed) {
    order_.unlink(closed);
    // Erase by iterator: erasing by a key that lives in the node itself is
    // asking for trouble.
    flows_.erase(flows_.find(*closed.key));
}

void TcpClosedFlows::remember(const TcpFlowKey& key, uint32_t start, uint32_t end, uint64_t now_ns) {
    auto it = flows_.find(key);
    if (it == flows_.end()) {
        // The oldest goes first: it is the likeliest to have seen its last
        // retransmission, and forgetting it costs at most a duplicate.
        if (flows_.size() >= max_flows_)
            erase(*order_.front());
        it = flows_.try_emplace(key).first;
        it->second.key = &it->first;
    } else {
        order_.unlink(it->second);
    }
    Closed& closed = it->second;
    closed.start = start;
    closed.end = end;
    closed.last_seen_ns = now_ns;
    order_.push_back(closed);
}

bool TcpClosedFlows::covers(const TcpFlowKey& key, uint32_t seq, uint32_t length, uint64_t now_ns) {
    const auto it = flows_.find(key);
    if (it == flows_.end())
        return false;
    Closed& closed = it->second;
    if (expired(closed, now_ns)) {
        erase(closed);
        return false;
    }
    // Bounded below by where the flow was first seen as well as above by its
    // FIN: only what the flow itself went through is known to be a copy.
    // Offsets from the start, unsigned, so that a segment longer than the
    // range, or some 2^31 away from it, cannot look covered.
    const uint32_t offset = seq - closed.start;
    const uint32_t span = closed.end - closed.start;
    if (offset > span || length > span - offset)
        return false;
    closed.last_seen_ns = std::max(closed.last_seen_ns, now_ns);
    order_.unlink(closed);
    order_.push_back(closed);
    return true;
}

void TcpClosedFlows::forget(const TcpFlowKey& key) {
    if (const auto it = flows_.find(key); it != flows_.end())
        erase(it->second);
}

void TcpClosedFlows::expire(uint64_t now_ns) {
    while (!order_.empty() && expired(*order_.front(), now_ns))
        erase(*order_.front());
}

void TcpClosedFlows::clear() {
    order_.clear();
    flows_.clear();
}

}  // namespace dnsvis
