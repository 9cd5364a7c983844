#include "packet_event.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "dnsvis_event.h"

namespace dnsvis {

std::string Endpoint::address_string() const {
    if (!ipv6) {
        // Formatted by hand: inet_ntop goes through sprintf, and this runs
        // several times for every transaction.
        char text[16];
        char* p = text;
        for (int i = 0; i < 4; ++i) {
            if (i > 0)
                *p++ = '.';
            // Bounded by a byte's three digits (see append_ipv4()).
            p = std::to_chars(p, p + 3, address[i]).ptr;
        }
        return std::string(text, p);
    }
    char text[INET6_ADDRSTRLEN];
    if (!inet_ntop(AF_INET6, address.data(), text, sizeof text))
        return "?";
    return text;
}

std::string Endpoint::to_string() const {
    std::string out;
    out.reserve(48);
    if (ipv6) {
        out += '[';
        out += address_string();
        out += ']';
    } else {
        out += address_string();
    }
    out += ':';
    char digits[8];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, port).ptr);
    return out;
}

size_t EndpointHash::operator()(const Endpoint& e) const noexcept {
    // FNV-1a over the bytes that make an endpoint distinct.
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](uint8_t byte) {
        h ^= byte;
        h *= 1099511628211ull;
    };
    for (size_t i = 0, n = e.ipv6 ? 16 : 4; i < n; ++i)
        mix(e.address[i]);
    mix(static_cast<uint8_t>(e.port));
    mix(static_cast<uint8_t>(e.port >> 8));
    mix(e.ipv6);
    return static_cast<size_t>(h);
}

static Endpoint make_endpoint(bool ipv6, const uint8_t (&address)[16], uint16_t port_be) {
    Endpoint e;
    e.ipv6 = ipv6;
    std::memcpy(e.address.data(), address, ipv6 ? 16 : 4);
    e.port = ntohs(port_be);
    return e;
}

DecodeStatus decode_packet_event(std::span<const uint8_t> record, PacketEvent& out) {
    dnsvis_event header;
    if (record.size() < sizeof header)
        return DecodeStatus::too_short;
    // The ring buffer gives 8-byte aligned records, but copying the header
    // keeps this correct for any caller (and for the fuzzer).
    std::memcpy(&header, record.data(), sizeof header);
    if (header.capture_len > record.size() - sizeof header || header.capture_len > header.payload_len ||
        header.capture_len > DNSVIS_MAX_CAPTURE)
        return DecodeStatus::bad_length;

    const bool ipv6 = header.flags & DNSVIS_EVENT_F_IPV6;
    out.timestamp_ns = header.timestamp_ns;
    out.socket_cookie = header.socket_cookie;
    out.cgroup_id = header.cgroup_id;
    out.pid = header.pid;
    out.tid = header.tid;
    out.uid = header.uid;
    const char* comm = reinterpret_cast<const char*>(record.data() + offsetof(dnsvis_event, comm));
    out.comm = std::string_view(comm, strnlen(comm, DNSVIS_COMM_LEN));
    out.direction = header.direction == DNSVIS_INGRESS ? Direction::ingress : Direction::egress;
    out.transport = (header.flags & DNSVIS_EVENT_F_TCP) ? Transport::tcp : Transport::udp;
    out.source = make_endpoint(ipv6, header.source_addr, header.source_port);
    out.destination = make_endpoint(ipv6, header.dest_addr, header.dest_port);
    out.tcp_seq = header.tcp_seq;
    out.tcp_flags = header.tcp_flags;
    out.payload_len = header.payload_len;
    out.payload = record.subspan(sizeof header, header.capture_len);
    return DecodeStatus::ok;
}

}  // namespace dnsvis
