// JSON lines on a file descriptor (stdout), see json_line.hpp. Each entry is
// formatted straight into the output buffer, which is written once per batch
// of events.
//
// A reader that stops reading (a pager held on a pipe, a frozen journald
// behind a service's stdout) must not hold dnsvisd's one event loop: the
// writes do not wait for it (output_fd.hpp), and the waits for room are
// bounded (output_stall.hpp). Past the bound, whole lines are counted as
// lost. A line whose start went out is finished before anything else, so
// the reader never sees one run into the next; only a line begun when
// dnsvisd stops can stay unfinished, and is counted as lost.
//
// A regular file has no reader to wait for: its lines are handed to a
// writer thread (file_writer.hpp).
#pragma once

#include <chrono>
#include <memory>

#include "file_writer.hpp"

#include "json_line.hpp"
#include "output_fd.hpp"
#include "output_stall.hpp"
#include "sink.hpp"

namespace dnsvis {

class JsonSink final : public Sink {
public:
    explicit JsonSink(int fd, std::chrono::milliseconds stall_timeout = std::chrono::seconds(5));
    FieldWriter& begin_entry() override;
    void end_entry() override;
    void flush() override;
    void settle() override;
    void finish() override;
    bool holds_output() const override { return begun_tail_ > 0; }
    bool reader_gone() const override { return reader_gone_; }

private:
    void write_out();
    void collect_file_losses();

    OutputFd out_;
    OutputStall stall_;
    JsonLineWriter lines_;
    size_t begun_tail_ = 0;  // the buffer starts with the rest of a line whose start went out
    // `2>&1`: a log line written while a line of ours is half out would
    // land inside it, so the log holds its lines meanwhile (log.hpp).
    bool shares_stderr_ = false;
    bool reader_gone_ = false;  // a write failed with EPIPE
    std::unique_ptr<FileWriter> file_;  // set for a regular file
    bool file_error_reported_ = false;
};

}  // namespace dnsvis
