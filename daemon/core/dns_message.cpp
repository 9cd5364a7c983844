#include "dns_message.hpp"

namespace dnsvis {

// The vectors keep their capacity: a message object reused across parses
// stops allocating for its sections once it has seen a large one.
void DnsMessage::clear() {
    id = 0;
    flags = 0;
    question_count = 0;
    answer_count = 0;
    authority_count = 0;
    additional_count = 0;
    questions.clear();
    answers.clear();
    authority.clear();
    additional.clear();
    edns.reset();
}

}  // namespace dnsvis
