#include "json_sink.hpp"

#include "json_line.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace dnsvis {

namespace {

// Above this, the buffer is written out before the batch ends, so memory
// stays bounded under a flood.
constexpr size_t flush_threshold = 256 * 1024;

}  // namespace

void JsonSink::write(const FieldList& fields) {
    const size_t bound = json_line_bound(fields);
    if (buffer_.size() - used_ < bound)
        buffer_.resize(std::max(used_ + bound, flush_threshold + bound));
    used_ = static_cast<size_t>(write_json_line(buffer_.data() + used_, fields) - buffer_.data());
    if (used_ >= flush_threshold)
        flush();
}

void JsonSink::flush() {
    size_t written = 0;
    while (written < used_) {
        ssize_t n = ::write(fd_, buffer_.data() + written, used_ - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        written += static_cast<size_t>(n);
    }
    // Count the entries whose line did not make it out completely.
    for (size_t i = written; i < used_; ++i)
        lost_ += buffer_[i] == '\n';
    used_ = 0;
}

}  // namespace dnsvis
