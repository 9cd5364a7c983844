#include "json_sink.hpp"

#include "write_all.hpp"

namespace dnsvis {

namespace {

// Above this, the buffer is written out before the batch ends, so memory
// stays bounded under a flood.
constexpr size_t flush_threshold = 256 * 1024;

bool reader_full(int error) {
    return error == EAGAIN || error == EWOULDBLOCK;
}

}  // namespace

JsonSink::JsonSink(int fd, std::chrono::milliseconds stall_timeout)
    : fd_(fd), nowait_(may_wait_for_reader(fd)), stall_("The reader of standard output", stall_timeout) {}

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
    if (text.empty())
        return;
    stall_.begin_flush();
    size_t written = 0;
    int error = 0;
    while (written < text.size()) {
        const ssize_t n = write_some(fd_, text.substr(written), nowait_);
        if (n > 0) {
            written += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EINTR || (reader_full(errno) && stall_.wait_for_room(fd_))))
            continue;
        error = n < 0 ? errno : EIO;
        break;
    }
    // A line the reader took the start of is finished first thing next
    // time, or the reader would see it run into the next one. After any
    // other failure (the reader is gone, the disk full) it is as lost as
    // the lines after it.
    const bool line_begun = written > 0 ? text[written - 1] != '\n' : begun_tail_ > 0;
    size_t begun = 0;
    if (written < text.size() && line_begun && reader_full(error))
        begun = text.find('\n', written) + 1 - written;
    for (size_t i = written + begun; i < text.size(); ++i)
        lost_ += text[i] == '\n';
    stall_.end_flush(written > 0);
    lines_.keep(written, begun);
    begun_tail_ = begun;
}

void JsonSink::finish() {
    flush();
    if (begun_tail_ > 0) {
        ++lost_;  // its start went out, its end never will
        lines_.clear();
        begun_tail_ = 0;
    }
}

}  // namespace dnsvis
