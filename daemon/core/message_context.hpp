// Where a DNS message was seen: everything about it but its bytes. The TCP
// reassembler keeps one with each segment it holds back, so a message it
// completes later carries the arrival time and owner of its own segment.
#pragma once

#include <cstdint>

#include "packet_event.hpp"
#include "transaction.hpp"

namespace dnsvis {

// How much of a message was captured: all of it, or its beginning, with the
// rest cut at the snap length, lost (a TCP segment never captured), or never
// there (the TCP stream ended, FIN or RST, inside the message). What arrived
// is still reported: its header says whose answer it was and how it ended.
enum class MessageTail : uint8_t { whole, cut, lost, ended };

struct MessageContext {
    uint64_t timestamp_ns = 0;
    uint64_t socket_cookie = 0;
    Direction direction = Direction::egress;
    Transport transport = Transport::udp;
    Endpoint source;
    Endpoint destination;
    SocketOwner owner;
};

}  // namespace dnsvis
