// What names one direction of one TCP connection for the reassembler: the
// socket and the two endpoints. Shared by the live flows and the memory of
// recently closed ones.
#pragma once

#include <cstddef>
#include <cstdint>

#include "packet_event.hpp"

namespace dnsvis {

struct TcpFlowKey {
    uint64_t socket_cookie = 0;
    Endpoint source;
    Endpoint destination;
    friend bool operator==(const TcpFlowKey&, const TcpFlowKey&) = default;
};

// Seeded per reassembler: on the server side remote clients pick the ports.
struct TcpFlowKeyHash {
    uint64_t seed = 0;
    size_t operator()(const TcpFlowKey& k) const noexcept;
};

}  // namespace dnsvis
