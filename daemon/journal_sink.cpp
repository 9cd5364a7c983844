#include "journal_sink.hpp"

#include <systemd/sd-journal.h>

namespace dnsvis {

void JournalSink::write(const FieldList& fields) {
    if (assignments_.size() < fields.size())
        assignments_.resize(fields.size());
    iov_.clear();
    for (size_t i = 0; i < fields.size(); ++i) {
        std::string& assignment = assignments_[i];
        assignment.assign(fields[i].name);
        assignment += '=';
        assignment += fields[i].value;
        iov_.push_back(iovec{assignment.data(), assignment.size()});
    }
    if (sd_journal_sendv(iov_.data(), static_cast<int>(iov_.size())) < 0)
        ++lost_;
}

}  // namespace dnsvis
