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

size_t DnsMessage::rendered_text_size() const {
    size_t total = 0;
    for (const DnsQuestion& q : questions)
        total += q.name.size();
    for (const auto* section : {&answers, &authority, &additional}) {
        for (const DnsRecord& r : *section)
            total += r.name.size() + r.data.size();
    }
    return total;
}

}  // namespace dnsvis
