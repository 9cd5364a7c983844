// A DNS transaction: a query and its response, a query that timed out, or a
// response whose query was not seen. This is what the sinks report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dns_message.hpp"
#include "packet_event.hpp"

namespace dnsvis {

enum class Outcome : uint8_t { answered, timeout, unmatched_response };
std::string_view to_string(Outcome outcome);  // "answered", "timeout", "unmatched-response"

// Which side of the exchange the capturing socket was on.
enum class Side : uint8_t { client, server };
std::string_view to_string(Side side);  // "client", "server"

// The process that owns the socket, as the kernel saw it.
struct SocketOwner {
    uint32_t pid = 0;  // 0: unknown
    uint32_t tid = 0;
    uint32_t uid = 0;
    std::string comm;
    uint64_t cgroup_id = 0;
};

// The parts of a response that are reported.
struct ResponseSummary {
    uint16_t flags = 0;
    uint16_t rcode = 0;
    std::vector<DnsRecord> answers;
};

struct Transaction {
    Outcome outcome = Outcome::answered;
    Side side = Side::client;
    Transport transport = Transport::udp;
    uint16_t id = 0;
    DnsQuestion question;  // empty name when the message had no question
    uint16_t query_flags = 0;
    Endpoint client;
    Endpoint server;
    uint64_t socket_cookie = 0;
    SocketOwner owner;
    std::optional<uint64_t> query_ns;     // first query seen (CLOCK_MONOTONIC)
    std::optional<uint64_t> response_ns;  // response seen
    uint32_t retransmits = 0;             // identical queries after the first
    std::optional<ResponseSummary> response;

    std::optional<uint64_t> latency_ns() const {
        if (query_ns && response_ns && *response_ns >= *query_ns)
            return *response_ns - *query_ns;
        return std::nullopt;
    }
};

}  // namespace dnsvis
