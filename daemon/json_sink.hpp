// JSON lines on a file descriptor (stdout): one object per entry with the
// journal field names as keys and string values, like `journalctl -o json`.
// Output is buffered and written once per batch of events.
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

// Appends `text` as a JSON string literal (with quotes) to `out`.
void append_json_string(std::string& out, std::string_view text);

}  // namespace dnsvis
