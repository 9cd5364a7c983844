#include "json_line.hpp"

namespace dnsvis {

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
            if (byte < 0x20 || byte == 0x7f) {
                out += "\\u00";
                out += hex[byte >> 4];
                out += hex[byte & 0xf];
            } else {
                // Bytes >= 0x80 pass through: names are escaped by the parser
                // (\DDD), and comm/exe are what the kernel holds.
                out += c;
            }
        }
    }
    out += '"';
}

void append_json_line(std::string& out, const FieldList& fields) {
    out += '{';
    bool first = true;
    for (const Field& field : fields) {
        if (!first)
            out += ',';
        first = false;
        append_json_string(out, field.name);
        out += ':';
        append_json_string(out, field.value);
    }
    out += "}\n";
}

}  // namespace dnsvis
