// One structured journald entry per entry (sd_journal_sendv).
#pragma once

#include <sys/uio.h>

#include <string>
#include <vector>

#include "sink.hpp"

namespace dnsvis {

class JournalSink final : public Sink {
public:
    FieldWriter& begin_entry() override;
    void end_entry() override;

private:
    // The fields as "NAME=value", written in place into buffers that are
    // reused from entry to entry.
    class Assignments final : public FieldWriter {
    public:
        void clear() { size_ = 0; }
        void add(std::string_view name, std::string_view value) override;
        int send();  // sd_journal_sendv()'s result

    private:
        std::vector<std::string> buffers_;  // [0, size_) hold this entry
        size_t size_ = 0;
        std::vector<iovec> iov_;
    };

    Assignments entry_;
};

}  // namespace dnsvis
