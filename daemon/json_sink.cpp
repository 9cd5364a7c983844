#include "json_sink.hpp"

#include <unistd.h>

#include <cerrno>

namespace dnsvis {

namespace {

// Above this, the buffer is written out before the batch ends, so memory
// stays bounded under a flood.
constexpr size_t flush_threshold = 256 * 1024;

}  // namespace

FieldWriter& JsonSink::begin_entry() {
    lines_.begin_line();
    return lines_;
}

void JsonSink::end_entry() {
    lines_.end_line();
    if (lines_.text().size() >= flush_threshold)
        flush();
}

void JsonSink::flush() {
    const std::string_view text = lines_.text();
    size_t written = 0;
    while (written < text.size()) {
        ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        written += static_cast<size_t>(n);
    }
    // Count the entries whose line did not make it out completely.
    for (size_t i = written; i < text.size(); ++i)
        lost_ += text[i] == '\n';
    lines_.clear();
}

}  // namespace dnsvis
