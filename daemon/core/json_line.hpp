// A field list as one JSON object on one line, with the journal field names
// as keys and string values, like `journalctl -o json`.
#pragma once

#include <string>
#include <string_view>

#include "transaction_fields.hpp"

namespace dnsvis {

// Appends `text` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view text);
// Appends {"NAME":"value",...} and a newline.
void append_json_line(std::string& out, const FieldList& fields);

}  // namespace dnsvis
