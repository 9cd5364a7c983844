// A field list as one JSON object on one line, with the journal field names
// as keys and string values, like `journalctl -o json`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "transaction_fields.hpp"

namespace dnsvis {

// Appends `text` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view text);
// Appends {"NAME":"value",...} and a newline.
void append_json_line(std::string& out, const FieldList& fields);

// The same line written into a caller's buffer, for a sink that keeps one
// buffer for many lines: json_line_bound() is the most bytes the writer may
// touch (every byte escaped, plus slack for eight-byte stores), and
// write_json_line() returns the end of what it wrote.
size_t json_line_bound(const FieldList& fields);
char* write_json_line(char* out, const FieldList& fields);

}  // namespace dnsvis
