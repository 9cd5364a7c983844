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
    std::string buffer_;
};

}  // namespace dnsvis
