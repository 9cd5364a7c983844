// One structured journald entry per field list (sd_journal_sendv).
#pragma once

#include <sys/uio.h>

#include <string>
#include <vector>

#include "sink.hpp"

namespace dnsvis {

class JournalSink final : public Sink {
public:
    void write(const FieldList& fields) override;

private:
    std::vector<std::string> assignments_;  // reused "NAME=value" buffers
    std::vector<iovec> iov_;
};

}  // namespace dnsvis
