#include "journal_sink.hpp"

#include <systemd/sd-journal.h>

namespace dnsvis {

void JournalSink::Assignments::add(std::string_view name, std::string_view value) {
    if (size_ == buffers_.size())
        buffers_.emplace_back();
    std::string& assignment = buffers_[size_++];
    assignment.assign(name);
    assignment += '=';
    assignment += value;
}

int JournalSink::Assignments::send() {
    iov_.clear();
    for (size_t i = 0; i < size_; ++i)
        iov_.push_back(iovec{buffers_[i].data(), buffers_[i].size()});
    return sd_journal_sendv(iov_.data(), static_cast<int>(iov_.size()));
}

FieldWriter& JournalSink::begin_entry() {
    entry_.clear();
    return entry_;
}

void JournalSink::end_entry() {
    if (entry_.send() < 0)
        ++lost_;
}

}  // namespace dnsvis
