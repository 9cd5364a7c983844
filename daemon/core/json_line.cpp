#include "json_line.hpp"

namespace dnsvis {

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    // Copy runs of plain bytes at once; this is the hottest loop of the JSON
    // output, and almost every byte is plain.
    size_t run_start = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte != '"' && byte != '\\' && byte != 0x7f)
            continue;  // bytes >= 0x80 pass through: names are escaped by the parser (\DDD)
        out.append(text.data() + run_start, i - run_start);
        run_start = i + 1;
        switch (byte) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            out += "\\u00";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        }
    }
    out.append(text.data() + run_start, text.size() - run_start);
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
