#include "json_sink.hpp"

#include "write_all.hpp"

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
    const size_t written = write_fully(fd_, text);
    // Count the entries whose line did not make it out completely.
    for (size_t i = written; i < text.size(); ++i)
        lost_ += text[i] == '\n';
    lines_.clear();
}

}  // namespace dnsvis
