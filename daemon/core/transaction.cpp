#include "transaction.hpp"

namespace dnsvis {

std::string_view to_string(Outcome outcome) {
    switch (outcome) {
        case Outcome::answered:
            return "answered";
        case Outcome::timeout:
            return "timeout";
        case Outcome::unmatched_response:
            return "unmatched-response";
    }
    return "unknown";
}

std::string_view to_string(Side side) {
    switch (side) {
        case Side::client:
            return "client";
        case Side::server:
            return "server";
    }
    return "unknown";
}

}  // namespace dnsvis
