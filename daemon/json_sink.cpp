#include "json_sink.hpp"

#include "json_line.hpp"

#include <unistd.h>

#include <cerrno>

namespace dnsvis {

namespace {

// Above this, the buffer is written out before the batch ends, so memory
// stays bounded under a flood.
constexpr size_t flush_threshold = 256 * 1024;

}  // namespace

void JsonSink::write(const FieldList& fields) {
    append_json_line(buffer_, fields);
    if (buffer_.size() >= flush_threshold)
        flush();
}

void JsonSink::flush() {
    size_t written = 0;
    while (written < buffer_.size()) {
        ssize_t n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        written += static_cast<size_t>(n);
    }
    // Count the entries whose line did not make it out completely.
    for (size_t i = written; i < buffer_.size(); ++i)
        lost_ += buffer_[i] == '\n';
    buffer_.clear();
}

}  // namespace dnsvis
