#include <doctest/doctest.h>

#include "json_line.hpp"

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
