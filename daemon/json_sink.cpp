#include "json_sink.hpp"

#include <unistd.h>

#include <cerrno>

namespace dnsvis {

namespace {

// Above this, the buffer is written out before the batch ends, so memory
// stays bounded under a flood.
constexpr size_t flush_threshold = 256 * 1024;

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (byte < 0x20) {
                out += "\\u00";
                out += hex[byte >> 4];
                out += hex[byte & 0xf];
            } else {
                out += c;  // UTF-8 passes through; the parser escapes odd bytes in names
            }
        }
    }
    out += '"';
}

void JsonSink::write(const FieldList& fields) {
    buffer_ += '{';
    bool first = true;
    for (const Field& field : fields) {
        if (!first)
            buffer_ += ',';
        first = false;
        append_json_string(buffer_, field.name);
        buffer_ += ':';
        append_json_string(buffer_, field.value);
    }
    buffer_ += "}\n";
    if (buffer_.size() >= flush_threshold)
        flush();
}

void JsonSink::flush() {
    size_t written = 0;
    while (written < buffer_.size()) {
        ssize_t n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        written += static_cast<size_t>(n);
    }
    // Count the entries whose line did not make it out completely.
    for (size_t i = written; i < buffer_.size(); ++i)
        lost_ += buffer_[i] == '\n';
    buffer_.clear();
}

}  // namespace dnsvis
