#include <doctest/doctest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "json_line.hpp"
#include "utf8_text.hpp"

using namespace dnsvis;

TEST_CASE("JSON strings escape quotes, backslashes and control bytes") {
    std::string out;
    append_json_string(out, std::string_view("a\"b\\c\nd\te\x01\x7f", 11));
    CHECK(out == R"("a\"b\\c\nd\te\u0001\u007f")");
}

TEST_CASE("a field list becomes one JSON object on one line") {
    FieldList fields{{"DNS_NAME", "www.example.test"}, {"DNS_TYPE", "A"}};
    std::string out;
    append_json_line(out, fields);
    CHECK(out == "{\"DNS_NAME\":\"www.example.test\",\"DNS_TYPE\":\"A\"}\n");
    append_json_line(out, {});
    CHECK(out.substr(out.size() - 3) == "{}\n");
}

namespace {

// The obvious byte-at-a-time escaper, to check the fast one against.
std::string reference_escape(std::string_view text) {
    std::string out = "\"";
    for (size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        char buffer[8];
        if (c >= 0x80) {
            if (const size_t length = utf8_sequence_length(text.substr(i)); length > 0) {
                out += text.substr(i, length);
                i += length - 1;
            } else {
                std::snprintf(buffer, sizeof buffer, "\\\\x%02x", c);
                out += buffer;
            }
        } else if (c == '"')
            out += "\\\"";
        else if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\r')
            out += "\\r";
        else if (c < 0x20 || c == 0x7f) {
            std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
            out += buffer;
        } else
            out += static_cast<char>(c);
    }
    return out + "\"";
}

}  // namespace

TEST_CASE("escaping finds a special byte at every position of a long string") {
    const std::string plain(40, 'x');
    for (char special : {'"', '\\', '\n', '\t', '\r', '\x01', '\x1f', '\x7f'}) {
        for (size_t at = 0; at < plain.size(); ++at) {
            std::string text = plain;
            text[at] = special;
            std::string out;
            append_json_string(out, text);
            CHECK_MESSAGE(out == reference_escape(text), "byte ", int(special), " at ", at);
        }
    }
    std::string mixed = "caf\xc3\xa9 \"quoted\" back\\slash\x02 and a long plain tail of text";
    std::string out;
    append_json_string(out, mixed);
    CHECK(out == reference_escape(mixed));
}

TEST_CASE("escaping finds a special byte at every position of strings of every short length") {
    // Strings shorter than a word, and the last bytes of longer ones, take
    // their own path.
    for (size_t length = 0; length <= 24; ++length) {
        const std::string plain(length, 'y');
        std::string out;
        append_json_string(out, plain);
        CHECK(out == reference_escape(plain));
        for (char special : {'"', '\\', '\n', '\x01', '\x1f', '\x7f', ' ', '!', '#', '\x80'}) {
            for (size_t at = 0; at < length; ++at) {
                std::string text = plain;
                text[at] = special;
                out.clear();
                append_json_string(out, text);
                CHECK_MESSAGE(out == reference_escape(text), "length ", length, " byte ", int(special), " at ", at);
            }
        }
    }
}

TEST_CASE("the line writer writes what append_json_line does, line after line, as its buffer grows") {
    FieldList fields{{"MESSAGE", "curl[1] www.example.test A \xe2\x86\x92 NOERROR"},
                     {"DNS_ANSWERS", std::string(50, 'x') + "\"quoted\"\n"},
                     {"EMPTY", ""},
                     {"X", "1"}};
    std::string appended;
    append_json_line(appended, fields);
    CHECK(appended ==
          "{\"MESSAGE\":\"curl[1] www.example.test A \xe2\x86\x92 NOERROR\",\"DNS_ANSWERS\":\"" + std::string(50, 'x') +
              "\\\"quoted\\\"\\n\",\"EMPTY\":\"\",\"X\":\"1\"}\n");

    // Enough lines that the buffer grows many times, some of them while a
    // line is half written; every line must come out whole.
    JsonLineWriter writer;
    std::string expected;
    for (int i = 0; i < 2000; ++i) {
        FieldList line{{"N", std::to_string(i)}, {"LONG", std::string(static_cast<size_t>(i % 300), '"')}};
        append_json_line(expected, line);
        writer.begin_line();
        line.write_to(writer);
        writer.end_line();
    }
    CHECK(writer.text() == expected);
    writer.clear();
    CHECK(writer.text().empty());
    writer.begin_line();
    writer.end_line();
    CHECK(writer.text() == "{}\n");
}

TEST_CASE("keys of every length are copied whole") {
    // Names are copied in overlapping pieces whose sizes depend on the
    // length; each length takes one of those paths.
    static std::vector<std::string> names;
    for (size_t length = 1; length <= 40; ++length)
        names.push_back(std::string(length - 1, 'A') + static_cast<char>('B' + length % 20));
    JsonLineWriter writer;
    std::string expected;
    for (const std::string& name : names) {
        writer.begin_line();
        writer.add(name, "v");
        writer.end_line();
        expected += "{\"" + name + "\":\"v\"}\n";
    }
    CHECK(writer.text() == expected);
}

TEST_CASE("bytes that are not UTF-8 become \\xNN, which JSON carries as text; UTF-8 stays as it is") {
    std::string out;
    append_json_string(out, "comm\xff\xfe");
    CHECK(out == R"("comm\\xff\\xfe")");
    out.clear();
    append_json_string(out, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    CHECK(out == "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
    out.clear();
    // An overlong '/', a surrogate, a sequence cut short by the end.
    append_json_string(out, "\xc0\xaf|\xed\xa0\x80|\xe2\x82");
    CHECK(out == R"("\\xc0\\xaf|\\xed\\xa0\\x80|\\xe2\\x82")");
}

TEST_CASE("a UTF-8 sequence or a bad byte at every position, across the writer's word boundaries") {
    for (std::string_view special : {std::string_view("\xc3\xa9"), std::string_view("\xe2\x82\xac"),
                                     std::string_view("\xf0\x9f\x98\x80"), std::string_view("\xff"),
                                     std::string_view("\xe2\x82"), std::string_view("\xc3\xa9\""),
                                     std::string_view("\xf4\x90\x80\x80")}) {
        for (size_t length = 0; length <= 26; ++length) {
            for (size_t at = 0; at <= length; ++at) {
                std::string text(length, 'z');
                text.insert(at, special);
                std::string out;
                append_json_string(out, text);
                CHECK_MESSAGE(out == reference_escape(text), "length ", length, " at ", at);
            }
        }
    }
}

TEST_CASE("any bytes make a string a strict JSON parser takes, holding what D-Bus would be sent") {
    // nlohmann::json refuses a string that is not UTF-8, as Python's json
    // and serde_json do.
    std::mt19937 random(20261207);
    for (int round = 0; round < 2000; ++round) {
        std::string text(random() % 40, '\0');
        for (char& c : text)
            c = static_cast<char>(1 + random() % 255);  // no NUL: bus_text writes \x00 where JSON has \u0000
        std::string out;
        append_json_string(out, text);
        nlohmann::json parsed;
        REQUIRE_NOTHROW(parsed = nlohmann::json::parse(out));
        CHECK(parsed.get<std::string>() == bus_text(text));
    }
}
