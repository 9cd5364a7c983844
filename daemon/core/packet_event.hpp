// One captured packet, decoded from the kernel's ring-buffer record.
// Independent of libbpf: the record layout comes from bpf/dnsvis_event.h.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace dnsvis {

struct Endpoint {
    bool ipv6 = false;
    std::array<uint8_t, 16> address{};  // IPv4 uses the first 4 bytes
    uint16_t port = 0;                  // host order

    // "127.0.0.1:53", "[::1]:53"
    std::string to_string() const;
    std::string address_string() const;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct EndpointHash {
    size_t operator()(const Endpoint& e) const noexcept;
};

enum class Direction : uint8_t { egress, ingress };
enum class Transport : uint8_t { udp, tcp };

// tcp_flags bits as on the wire.
namespace tcp_flag {
inline constexpr uint8_t fin = 0x01;
inline constexpr uint8_t syn = 0x02;
inline constexpr uint8_t rst = 0x04;
inline constexpr uint8_t ack = 0x10;
}  // namespace tcp_flag

struct PacketEvent {
    uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC
    uint64_t socket_cookie = 0;
    uint64_t cgroup_id = 0;
    uint32_t pid = 0;  // 0: owner unknown
    uint32_t tid = 0;
    uint32_t uid = 0;
    std::string_view comm;  // points into the record
    Direction direction = Direction::egress;
    Transport transport = Transport::udp;
    Endpoint source;
    Endpoint destination;
    uint32_t tcp_seq = 0;
    uint8_t tcp_flags = 0;
    uint32_t payload_len = 0;          // on the wire
    std::span<const uint8_t> payload;  // captured bytes, may be shorter (points into the record)
    bool cut() const { return payload.size() < payload_len; }
};

enum class DecodeStatus : uint8_t { ok, too_short, bad_length };

// Decodes one ring-buffer record. `out` points into `record`.
DecodeStatus decode_packet_event(std::span<const uint8_t> record, PacketEvent& out);

}  // namespace dnsvis
