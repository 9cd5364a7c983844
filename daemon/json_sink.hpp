// JSON lines on a file descriptor (stdout), see json_line.hpp. Output is
// buffered and written once per batch of events.
#pragma once

#include <string>

#include "sink.hpp"

namespace dnsvis {

class JsonSink final : public Sink {
public:
    explicit JsonSink(int fd) : fd_(fd) {}
    void write(const FieldList& fields) override;
    void flush() override;

private:
    int fd_;
    // Lines are written straight into this buffer, which only grows: its
    // size is the room, `used_` the part that holds lines. Growing it
    // zero-fills, writing into it does not.
    std::string buffer_;
    size_t used_ = 0;
};

}  // namespace dnsvis
