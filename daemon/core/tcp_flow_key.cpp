#include "tcp_flow_key.hpp"

#include "hash_mix.hpp"

namespace dnsvis {

size_t TcpFlowKeyHash::operator()(const TcpFlowKey& k) const noexcept {
    uint64_t h = mix(seed, k.socket_cookie);
    h = mix_endpoint(h, k.source);
    h = mix_endpoint(h, k.destination);
    h ^= h >> 32;
    return static_cast<size_t>(h);
}

}  // namespace dnsvis
