// JSON lines on a file descriptor (stdout), see json_line.hpp. Each entry is
// formatted straight into the output buffer, which is written once per batch
// of events.
#pragma once

#include "json_line.hpp"
#include "sink.hpp"

namespace dnsvis {

class JsonSink final : public Sink {
public:
    explicit JsonSink(int fd) : fd_(fd) {}
    FieldWriter& begin_entry() override;
    void end_entry() override;
    void flush() override;

private:
    int fd_;
    JsonLineWriter lines_;
};

}  // namespace dnsvis
