#include <doctest/doctest.h>

#include <string>

#include "utf8_text.hpp"

using namespace dnsvis;

TEST_CASE("UTF-8 sequences are valid as sd-bus counts them") {
    CHECK(utf8_sequence_length("\xc3\xa9") == 2);
    CHECK(utf8_sequence_length("\xe2\x82\xac rest") == 3);
    CHECK(utf8_sequence_length("\xf0\x9f\x98\x80") == 4);
    CHECK(utf8_sequence_length("\xf4\x8f\xbf\xbd") == 4);  // U+10FFFD, the last allowed
    CHECK(utf8_sequence_length("\xc2\x80") == 2);          // U+0080: valid (a terminal control, though)
    CHECK(utf8_sequence_length("\xef\xbf\xbd") == 3);      // U+FFFD

    CHECK(utf8_sequence_length("\xff") == 0);
    CHECK(utf8_sequence_length("\x80") == 0);              // a continuation byte first
    CHECK(utf8_sequence_length("\xc0\xaf") == 0);          // overlong '/'
    CHECK(utf8_sequence_length("\xe0\x80\xaf") == 0);      // overlong, three bytes
    CHECK(utf8_sequence_length("\xf0\x80\x80\xaf") == 0);  // overlong, four bytes
    CHECK(utf8_sequence_length("\xed\xa0\x80") == 0);      // surrogate U+D800
    CHECK(utf8_sequence_length("\xf4\x90\x80\x80") == 0);  // U+110000
    CHECK(utf8_sequence_length("\xf5\x80\x80\x80") == 0);
    CHECK(utf8_sequence_length("\xef\xbf\xbe") == 0);      // U+FFFE, a noncharacter sd-bus refuses
    CHECK(utf8_sequence_length("\xef\xb7\x90") == 0);      // U+FDD0, the same
    CHECK(utf8_sequence_length("\xe2\x82") == 0);          // cut short
    CHECK(utf8_sequence_length("\xe2\x28\xa1") == 0);      // not a continuation
    CHECK(utf8_sequence_length("") == 0);
}

TEST_CASE("D-Bus text: only bytes that are not UTF-8, and NUL, are escaped") {
    CHECK(is_bus_text("dig"));
    CHECK(is_bus_text("caf\xc3\xa9\n"));
    CHECK_FALSE(is_bus_text("\xff"));
    CHECK_FALSE(is_bus_text(std::string("a\0b", 3)));
    CHECK(bus_text("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(bus_text("a\xff" "b\xe2\x82") == "a\\xffb\\xe2\\x82");
    CHECK(bus_text(std::string("a\0b", 3)) == "a\\x00b");
    CHECK(bus_text("line\nbreak") == "line\nbreak");  // D-Bus carries control characters
    CHECK(is_bus_text(bus_text("\xc0\xaf\xed\xa0\x80\xff\xfe")));
}

TEST_CASE("terminal text: control characters are escaped too, C1 included") {
    CHECK(terminal_text("dig[42] asked") == "dig[42] asked");
    CHECK(terminal_text("\x1b[8mhidden") == "\\x1b[8mhidden");
    CHECK(terminal_text("x\n12:00") == "x\\x0a12:00");
    CHECK(terminal_text("del\x7f") == "del\\x7f");
    CHECK(terminal_text("csi\xc2\x9b") == "csi\\xc2\\x9b");  // U+009B, the 8-bit CSI
    CHECK(terminal_text("caf\xc3\xa9 \xc2\xa0") == "caf\xc3\xa9 \xc2\xa0");  // U+00A0 is not a control
    CHECK(terminal_text("\xff") == "\\xff");
}
