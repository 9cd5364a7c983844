#include "json_sink.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "log.hpp"
#include "unwritten_lines.hpp"

namespace dnsvis {

namespace {

// Above this, the buffer is written out before the batch ends, so memory
// stays bounded under a flood.
constexpr size_t flush_threshold = 256 * 1024;

bool same_file(int fd, int other) {
    struct stat a, b;
    return fstat(fd, &a) == 0 && fstat(other, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

JsonSink::JsonSink(int fd, std::chrono::milliseconds stall_timeout)
    : out_(fd), stall_("The reader of standard output", stall_timeout) {
    shares_stderr_ = out_.has_reader() && fd != STDERR_FILENO && same_file(fd, STDERR_FILENO);
    if (!out_.has_reader())
        file_ = std::make_unique<FileWriter>(fd);
}

FieldWriter& JsonSink::begin_entry() {
    lines_.begin_line();
    return lines_;
}

void JsonSink::end_entry() {
    lines_.end_line();
    if (lines_.text().size() >= flush_threshold)
        write_out();
}

void JsonSink::flush() {
    write_out();
    if (file_)
        collect_file_losses();
    stall_.end_batch();
}

void JsonSink::collect_file_losses() {
    lost_ += file_->take_lost();
    const int error = file_->error();
    if (error != 0 && !file_error_reported_)
        log_warning("Cannot write the output (%s); the entries that do not fit are counted as lost",
                    std::strerror(error));
    else if (error == 0 && file_error_reported_)
        log_info("The output takes entries again");
    file_error_reported_ = error != 0;
}

void JsonSink::write_out() {
    const std::string_view text = lines_.text();
    if (text.empty())
        return;
    if (file_) {
        file_->write(text);
        lines_.clear();
        return;
    }
    if (shares_stderr_)
        log_hold(true);  // the stall warning, too, would land inside a line
    size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = out_.write(text.substr(written));
        if (n > 0) {
            written += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && stall_.try_again(out_.fd()))
            continue;
        // SIGPIPE is ignored (main.cpp), so a closed pipe or socket says so here.
        if (n < 0 && errno == EPIPE)
            reader_gone_ = true;
        break;
    }
    if (written > 0)
        stall_.delivered();
    // A line whose start went out is finished first thing next time,
    // whatever stopped it (a held reader): the reader would otherwise see it
    // run into the next line. The lines after it are lost.
    const UnwrittenLines rest = unwritten_lines(text, written, begun_tail_ > 0);
    lost_ += rest.lost_lines;
    lines_.keep(written, rest.begun_rest);
    begun_tail_ = rest.begun_rest;
    if (shares_stderr_)
        log_hold(begun_tail_ > 0);
}

void JsonSink::settle() {
    if (!file_) {
        flush();
        return;
    }
    write_out();
    file_->wait_until_written();
    collect_file_losses();
    stall_.end_batch();
}

void JsonSink::finish() {
    if (file_) {
        write_out();
        file_->finish();
        collect_file_losses();
        return;
    }
    flush();
    if (begun_tail_ > 0) {
        ++lost_;  // its start went out, its end never will
        lines_.clear();
        begun_tail_ = 0;
        if (shares_stderr_)
            log_hold(false);
    }
}

}  // namespace dnsvis
