// Entries as JSON lines: one object per line, with the journal field names
// as keys and string values, like `journalctl -o json`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "entry_fields.hpp"

namespace dnsvis {

// Appends `text` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view text);
// Appends {"NAME":"value",...} and a newline.
void append_json_line(std::string& out, const FieldList& fields);

// Writes entries into one growing buffer, field by field as the formatter
// hands them over: each value is escaped straight into the output, with no
// copy in between. The buffer keeps its memory when cleared.
class JsonLineWriter final : public FieldWriter {
public:
    void begin_line();
    void add(std::string_view name, std::string_view value) override;
    void add_block(const FieldBlock& block) override;
    void end_line();

    std::string_view text() const { return {buffer_.data(), used_}; }
    void clear() { used_ = 0; }
    // Keeps the `count` bytes at `offset` and nothing else.
    void keep(size_t offset, size_t count);

private:
    // The next `room` bytes, written or not, may be touched.
    char* reserve(size_t room) {
        if (buffer_.size() - used_ < room)
            grow(room);
        return buffer_.data() + used_;
    }
    [[gnu::noinline]] void grow(size_t room);  // rare: kept out of the writer's path

    // Only grows: its size is the room, `used_` the part that holds lines.
    // Growing it zero-fills, writing into it does not.
    std::string buffer_;
    size_t used_ = 0;
    bool first_field_ = true;
};

}  // namespace dnsvis
