#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "dnsvis_event.h"
#include "packet_event.hpp"

using namespace dnsvis;

namespace {

std::vector<uint8_t> record(const dnsvis_event& header, std::vector<uint8_t> payload) {
    std::vector<uint8_t> bytes(sizeof header + payload.size());
    std::memcpy(bytes.data(), &header, sizeof header);
    std::memcpy(bytes.data() + sizeof header, payload.data(), payload.size());
    return bytes;
}

dnsvis_event ipv4_query() {
    dnsvis_event h{};
    h.timestamp_ns = 123456789;
    h.socket_cookie = 42;
    h.cgroup_id = 7;
    h.pid = 4242;
    h.tid = 4243;
    h.uid = 1000;
    h.payload_len = 3;
    h.capture_len = 3;
    h.source_port = htons(40312);
    h.dest_port = htons(53);
    h.direction = DNSVIS_EGRESS;
    const uint8_t src[4] = {127, 0, 0, 1}, dst[4] = {127, 0, 0, 53};
    std::memcpy(h.source_addr, src, 4);
    std::memcpy(h.dest_addr, dst, 4);
    std::strcpy(h.comm, "curl");
    return h;
}

}  // namespace

TEST_CASE("an IPv4 UDP record decodes field by field") {
    auto bytes = record(ipv4_query(), {1, 2, 3});
    PacketEvent e;
    REQUIRE(decode_packet_event(bytes, e) == DecodeStatus::ok);
    CHECK(e.timestamp_ns == 123456789);
    CHECK(e.socket_cookie == 42);
    CHECK(e.cgroup_id == 7);
    CHECK(e.pid == 4242);
    CHECK(e.tid == 4243);
    CHECK(e.uid == 1000);
    CHECK(e.comm == "curl");
    CHECK(e.direction == Direction::egress);
    CHECK(e.transport == Transport::udp);
    CHECK(e.source.to_string() == "127.0.0.1:40312");
    CHECK(e.destination.to_string() == "127.0.0.53:53");
    CHECK(e.payload.size() == 3);
    CHECK(e.payload[2] == 3);
    CHECK_FALSE(e.cut());
}

TEST_CASE("an IPv6 TCP ingress record keeps brackets, seq and flags") {
    dnsvis_event h = ipv4_query();
    h.flags = DNSVIS_EVENT_F_IPV6 | DNSVIS_EVENT_F_TCP;
    h.direction = DNSVIS_INGRESS;
    std::memset(h.source_addr, 0, 16);
    h.source_addr[15] = 1;  // ::1
    h.tcp_seq = 0xfffffff0u;
    h.tcp_flags = 0x18;
    auto bytes = record(h, {9, 9, 9});
    PacketEvent e;
    REQUIRE(decode_packet_event(bytes, e) == DecodeStatus::ok);
    CHECK(e.transport == Transport::tcp);
    CHECK(e.direction == Direction::ingress);
    CHECK(e.source.to_string() == "[::1]:40312");
    CHECK(e.tcp_seq == 0xfffffff0u);
    CHECK(e.tcp_flags == 0x18);
}

TEST_CASE("a cut capture is reported as cut") {
    dnsvis_event h = ipv4_query();
    h.payload_len = 5000;
    h.capture_len = 3;
    auto bytes = record(h, {1, 2, 3});
    PacketEvent e;
    REQUIRE(decode_packet_event(bytes, e) == DecodeStatus::ok);
    CHECK(e.cut());
}

TEST_CASE("a comm of 16 bytes without NUL stays within its field") {
    dnsvis_event h = ipv4_query();
    std::memset(h.comm, 'x', sizeof h.comm);
    auto bytes = record(h, {1, 2, 3});
    PacketEvent e;
    REQUIRE(decode_packet_event(bytes, e) == DecodeStatus::ok);
    CHECK(e.comm.size() == 16);
}

TEST_CASE("inconsistent records are refused, not read past their end") {
    PacketEvent e;
    std::vector<uint8_t> tiny(sizeof(dnsvis_event) - 1);
    CHECK(decode_packet_event(tiny, e) == DecodeStatus::too_short);

    dnsvis_event h = ipv4_query();
    h.capture_len = 10;  // claims more than the record holds
    h.payload_len = 10;
    auto bytes = record(h, {1, 2, 3});
    CHECK(decode_packet_event(bytes, e) == DecodeStatus::bad_length);

    h.capture_len = 3;
    h.payload_len = 2;  // captured more than was on the wire
    bytes = record(h, {1, 2, 3});
    CHECK(decode_packet_event(bytes, e) == DecodeStatus::bad_length);
}

TEST_CASE("equal endpoints hash equally, different ones (almost always) differently") {
    Endpoint a, b;
    a.address = {127, 0, 0, 1};
    a.port = 53;
    b = a;
    CHECK(EndpointHash{}(a) == EndpointHash{}(b));
    b.port = 54;
    CHECK(EndpointHash{}(a) != EndpointHash{}(b));
    b = a;
    b.ipv6 = true;
    CHECK_FALSE(a == b);
}

TEST_CASE("endpoint text: IPv4 extremes and IPv6 compression") {
    Endpoint e;
    e.address = {0, 0, 0, 0};
    e.port = 0;
    CHECK(e.to_string() == "0.0.0.0:0");
    e.address = {255, 255, 255, 255};
    e.port = 65535;
    CHECK(e.to_string() == "255.255.255.255:65535");
    e.address = {10, 200, 3, 40};
    CHECK(e.address_string() == "10.200.3.40");
    e.ipv6 = true;
    e.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
    e.port = 53;
    CHECK(e.to_string() == "[2001:db8::10]:53");
}
