// JSON lines on a file descriptor (stdout), see json_line.hpp. Each entry is
// formatted straight into the output buffer, which is written once per batch
// of events.
//
// A reader that stops reading (a pager held on a pipe, a frozen journald
// behind a service's stdout) must not hold dnsvisd's one event loop: writes
// to pipes and sockets do not block, and the waits for their reader are
// bounded (output_stall.hpp). Past the bound, whole lines are counted as
// lost; a line is never cut, one begun goes out before anything else (only
// a reader still held when dnsvisd stops may be left with the start of the
// last line, which is counted as lost). A file never waits for a reader and is written to as it is. A terminal
// cannot be written to without blocking: one held with Ctrl-S holds dnsvisd.
#pragma once

#include <chrono>

#include "json_line.hpp"
#include "output_stall.hpp"
#include "sink.hpp"

namespace dnsvis {

class JsonSink final : public Sink {
public:
    explicit JsonSink(int fd, std::chrono::milliseconds stall_timeout = std::chrono::seconds(5));
    FieldWriter& begin_entry() override;
    void end_entry() override;
    void flush() override;
    void finish() override;

private:
    int fd_;
    bool nowait_;  // writes to fd_ fail instead of waiting for its reader (write_some())
    size_t begun_tail_ = 0;  // the buffer starts with the rest of a line the reader has the start of
    OutputStall stall_;
    JsonLineWriter lines_;
};

}  // namespace dnsvis
