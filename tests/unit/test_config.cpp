#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config.hpp"

using namespace dnsvis;

namespace {

constexpr uint64_t kMs = 1000;
constexpr uint64_t kSec = 1000 * kMs;
constexpr uint64_t kMin = 60 * kSec;
constexpr uint64_t kHour = 60 * kMin;

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "dnsvis-config-XXXXXX").string();
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        REQUIRE(::mkdtemp(buf.data()) != nullptr);
        path_ = buf.data();
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    std::string write(const std::string& name, const std::string& text) const {
        std::string p = file(name);
        std::ofstream out(p, std::ios::binary);
        out << text;
        REQUIRE(out.good());
        return p;
    }

private:
    std::string path_;
};

Config parse(const std::string& text, std::vector<ConfigDiagnostic>& diagnostics) {
    Config config;
    apply_config_text(text, "test.conf", config, diagnostics);
    return config;
}

Config parse_clean(const std::string& text) {
    std::vector<ConfigDiagnostic> diagnostics;
    Config config = parse(text, diagnostics);
    for (const auto& d : diagnostics)
        FAIL_CHECK("unexpected diagnostic: " << d.to_string());
    return config;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

uint64_t timespan(const char* text) {
    uint64_t usec = 0;
    INFO(text);
    REQUIRE(parse_timespan_usec(text, usec));
    return usec;
}

bool timespan_rejected(const char* text) {
    uint64_t usec = 12345;
    bool ok = parse_timespan_usec(text, usec);
    return !ok && usec == 12345;
}

}  // namespace

TEST_CASE("config defaults") {
    Config c;
    CHECK(c.ports == std::vector<uint16_t>{53});
    CHECK(c.server_side == false);
    CHECK(c.snap_length == 4096);
    CHECK(c.ring_buffer_bytes == 4 * 1024 * 1024);
    CHECK(c.timeout_usec == 5 * kSec);
    CHECK(c.max_transactions == 65536);
    CHECK(c.global_visibility == true);
    CHECK(c.summary_interval_usec == 60 * kSec);

    Config parsed = parse_clean("");
    CHECK(parsed.ports == c.ports);
    CHECK(parsed.timeout_usec == c.timeout_usec);

    Config comments = parse_clean("# comment\n; also a comment\n\n   \n\t# indented comment\n");
    CHECK(comments.snap_length == 4096);
}

TEST_CASE("the shipped dnsvis.conf shows every default as the parser has it") {
    // units/dnsvis.conf, from this file's directory as the build names it.
    const std::string here = __FILE__;
    const std::string shipped_path = here.substr(0, here.rfind('/')) + "/../../units/dnsvis.conf";
    std::ifstream in(shipped_path);
    REQUIRE_MESSAGE(in.good(), "cannot open " << shipped_path);
    std::string uncommented;
    size_t settings = 0;
    for (std::string line; std::getline(in, line);) {
        // "#Key=value" is a setting shown commented out; "# text" is prose.
        if (line.size() > 1 && line[0] == '#' && std::isalpha(static_cast<unsigned char>(line[1]))) {
            line.erase(0, 1);
            ++settings;
        }
        uncommented += line + "\n";
    }
    CHECK(settings == 13);  // every key of the parser's table (daemon/core/config.cpp)
    CHECK(parse_clean(uncommented) == Config{});
}

TEST_CASE("config: every key") {
    Config c = parse_clean(
        "[Capture]\n"
        "Ports=53 5353\n"
        "ServerSide=yes\n"
        "SnapLength=1232\n"
        "RingBufferSize=16M\n"
        "[Transactions]\n"
        "Timeout=2.5s\n"
        "MaxPending=1024\n"
        "[Visibility]\n"
        "Global=no\n"
        "[Output]\n"
        "SummaryInterval=5min\n");
    CHECK(c.ports == std::vector<uint16_t>{53, 5353});
    CHECK(c.server_side == true);
    CHECK(c.snap_length == 1232);
    CHECK(c.ring_buffer_bytes == 16 * 1024 * 1024);
    CHECK(c.timeout_usec == 2500 * kMs);
    CHECK(c.max_transactions == 1024);
    CHECK(c.global_visibility == false);
    CHECK(c.summary_interval_usec == 5 * kMin);
}

TEST_CASE("config: syntax details") {
    SUBCASE("whitespace around key and value, CRLF line ends") {
        Config c = parse_clean("  [Capture]  \r\n  SnapLength  =   600  \r\n\tServerSide\t=\ttrue\r\n");
        CHECK(c.snap_length == 600);
        CHECK(c.server_side == true);
    }
    SUBCASE("no trailing newline") {
        Config c = parse_clean("[Capture]\nSnapLength=700");
        CHECK(c.snap_length == 700);
    }
    SUBCASE("sections may repeat, later lines win") {
        Config c = parse_clean("[Capture]\nSnapLength=700\n[Output]\nSummaryInterval=2s\n[Capture]\nSnapLength=800\n");
        CHECK(c.snap_length == 800);
        CHECK(c.summary_interval_usec == 2 * kSec);
    }
    SUBCASE("value containing '='") {
        std::vector<ConfigDiagnostic> d;
        parse("[Capture]\nPorts==53\n", d);
        REQUIRE(d.size() == 1);
        CHECK(d[0].line == 2);
        CHECK(contains(d[0].message, "Ports= \"=53\""));
    }
    SUBCASE("a comment after a value is refused, whatever the key, and said so") {
        std::vector<ConfigDiagnostic> d;
        const Config c = parse("[Capture]\nPorts=53 5353  # two ports\n"
                               "[Containers]\nDockerSocket=/run/docker.sock # not a path\n"
                               "PodmanSocket=/run/pod#man.sock\n", d);
        REQUIRE(d.size() == 2);
        CHECK(d[0].line == 2);
        CHECK(contains(d[0].message, "comment after its value"));
        CHECK(d[1].line == 4);
        CHECK(c.ports == Config{}.ports);
        CHECK(c.docker_socket == Config{}.docker_socket);
        CHECK(c.podman_socket == "/run/pod#man.sock");  // a "#" inside a value is the value's
    }
    SUBCASE("a key the section does not have is said so first, comment or not") {
        std::vector<ConfigDiagnostic> d;
        parse("[Containers]\nPorts=53 # DNS\n", d);
        REQUIRE(d.size() == 1);
        CHECK(contains(d[0].message, "Unknown key Ports= in section [Containers]"));
    }
    SUBCASE("the file's NUL and control bytes are escaped in messages, which they would cut short") {
        std::vector<ConfigDiagnostic> d;
        static const char text[] = "Ports\0=53\n[Capture]\nPorts=53\0 5353\x1b[31m\xff\n";
        parse(std::string(text, sizeof text - 1), d);
        REQUIRE(d.size() == 2);
        CHECK(contains(d[0].message, "Ports\\x00= appears before any [Section]"));
        CHECK(contains(d[1].message, "Ports= \"53\\x00 5353\\x1b[31m\\xff\""));
        for (const auto& diag : d)
            CHECK(diag.message.find_first_of(std::string("\0\x1b\xff", 3)) == std::string::npos);
    }
    SUBCASE("X- sections are ignored silently") {
        Config c = parse_clean("[X-Vendor]\nAnything=goes\n[Capture]\nSnapLength=900\n");
        CHECK(c.snap_length == 900);
    }
}

TEST_CASE("config: Ports=") {
    SUBCASE("space, comma and mixed separators") {
        CHECK(parse_clean("[Capture]\nPorts=53,5353\n").ports == std::vector<uint16_t>{53, 5353});
        CHECK(parse_clean("[Capture]\nPorts=53, 5353 ,853\n").ports == std::vector<uint16_t>{53, 5353, 853});
        CHECK(parse_clean("[Capture]\nPorts=1 65535\n").ports == std::vector<uint16_t>{1, 65535});
    }
    SUBCASE("each assignment replaces the list") {
        CHECK(parse_clean("[Capture]\nPorts=5353\nPorts=853 54\n").ports == std::vector<uint16_t>{853, 54});
    }
    SUBCASE("an empty assignment resets to the default") {
        CHECK(parse_clean("[Capture]\nPorts=5353\nPorts=\n").ports == std::vector<uint16_t>{53});
    }
    SUBCASE("duplicates collapse") {
        CHECK(parse_clean("[Capture]\nPorts=53 53 5353 53\n").ports == std::vector<uint16_t>{53, 5353});
    }
    SUBCASE("exactly eight ports are fine") {
        CHECK(parse_clean("[Capture]\nPorts=1 2 3 4 5 6 7 8\n").ports.size() == 8);
    }
    SUBCASE("bad values keep the previous list") {
        for (const char* bad : {"0", "65536", "53 abc", "-53", "53;54", "99999999999999999999999", ",", "0x35"}) {
            INFO(bad);
            std::vector<ConfigDiagnostic> d;
            Config c = parse(std::string("[Capture]\nPorts=5353\nPorts=") + bad + "\n", d);
            CHECK(c.ports == std::vector<uint16_t>{5353});
            REQUIRE(d.size() == 1);
            CHECK(d[0].line == 3);
            CHECK(contains(d[0].message, "Ports="));
            CHECK(contains(d[0].message, "ignoring"));
        }
    }
    SUBCASE("more than eight ports") {
        std::vector<ConfigDiagnostic> d;
        Config c = parse("[Capture]\nPorts=1 2 3 4 5 6 7 8 9\n", d);
        CHECK(c.ports == std::vector<uint16_t>{53});
        REQUIRE(d.size() == 1);
        CHECK(contains(d[0].message, "at most 8"));
    }
}

TEST_CASE("config: booleans") {
    for (const char* yes : {"yes", "YES", "Yes", "true", "True", "on", "ON", "1", "y", "t"}) {
        bool v = false;
        INFO(yes);
        CHECK(parse_boolean(yes, v));
        CHECK(v == true);
    }
    for (const char* no : {"no", "NO", "false", "FALSE", "off", "Off", "0", "n", "f"}) {
        bool v = true;
        INFO(no);
        CHECK(parse_boolean(no, v));
        CHECK(v == false);
    }
    for (const char* bad : {"", "2", "maybe", "yess", " yes", "tru", "enable"}) {
        bool v = true;
        INFO(bad);
        CHECK_FALSE(parse_boolean(bad, v));
        CHECK(v == true);
    }

    std::vector<ConfigDiagnostic> d;
    Config c = parse("[Capture]\nServerSide=yes\nServerSide=maybe\n[Visibility]\nGlobal=off\nGlobal=2\n", d);
    CHECK(c.server_side == true);
    CHECK(c.global_visibility == false);
    REQUIRE(d.size() == 2);
    CHECK(d[0].line == 3);
    CHECK(contains(d[0].message, "ServerSide= \"maybe\" is not a boolean"));
    CHECK(d[1].line == 6);
    CHECK(contains(d[1].message, "Global= \"2\" is not a boolean"));

    CHECK(parse_clean("[Capture]\nServerSide=yes\nServerSide=\n").server_side == false);
}

TEST_CASE("config: integer and size ranges") {
    CHECK(parse_clean("[Capture]\nSnapLength=512\n").snap_length == 512);
    CHECK(parse_clean("[Capture]\nSnapLength=8192\n").snap_length == 8192);
    CHECK(parse_clean("[Transactions]\nMaxPending=16\n").max_transactions == 16);
    CHECK(parse_clean("[Transactions]\nMaxPending=1048576\n").max_transactions == 1048576);
    CHECK(parse_clean("[Capture]\nSnapLength=600\nSnapLength=\n").snap_length == 4096);
    // Sizes: bytes, or K, M, G as powers of 1024.
    CHECK(parse_clean("[Capture]\nRingBufferSize=65536\n").ring_buffer_bytes == 65536);
    CHECK(parse_clean("[Capture]\nRingBufferSize=64K\n").ring_buffer_bytes == 65536);
    CHECK(parse_clean("[Capture]\nRingBufferSize=3M\n").ring_buffer_bytes == 3 * 1024 * 1024);
    CHECK(parse_clean("[Capture]\nRingBufferSize=256M\n").ring_buffer_bytes == 256u * 1024 * 1024);
    CHECK(parse_clean("[Capture]\nRingBufferSize=100000B\n").ring_buffer_bytes == 100000);
    CHECK(parse_clean("[Capture]\nRingBufferSize=8M\nRingBufferSize=\n").ring_buffer_bytes == 4 * 1024 * 1024);

    struct Case {
        const char* text;
        const char* expect;
    };
    for (Case k : {Case{"[Capture]\nSnapLength=511\n", "SnapLength= \"511\" is out of range (512..8192)"},
                   Case{"[Capture]\nSnapLength=8193\n", "SnapLength= \"8193\" is out of range (512..8192)"},
                   Case{"[Capture]\nSnapLength=4k\n", "SnapLength= \"4k\" is not an integer (512..8192)"},
                   Case{"[Capture]\nSnapLength=-1\n", "is not an integer"},
                   Case{"[Capture]\nSnapLength=+600\n", "is not an integer"},
                   Case{"[Capture]\nSnapLength=99999999999999999999999\n", "is not an integer"},
                   Case{"[Transactions]\nMaxPending=15\n", "MaxPending= \"15\" is out of range (16..1048576)"},
                   Case{"[Transactions]\nMaxPending=1048577\n", "is out of range"},
                   Case{"[Transactions]\nMaxPending=1 000\n", "is not an integer"},
                   Case{"[Capture]\nRingBufferSize=63K\n", "RingBufferSize= \"63K\" is out of range (64K..256M)"},
                   Case{"[Capture]\nRingBufferSize=257M\n", "is out of range (64K..256M)"},
                   Case{"[Capture]\nRingBufferSize=1G\n", "is out of range"},
                   Case{"[Capture]\nRingBufferSize=99999999999G\n", "is not a size"},
                   Case{"[Capture]\nRingBufferSize=1m\n", "is not a size (bytes, or with K, M or G)"},
                   Case{"[Capture]\nRingBufferSize=M\n", "is not a size"},
                   Case{"[Capture]\nRingBufferSize=1.5M\n", "is not a size"},
                   Case{"[Capture]\nRingBufferSize=-1M\n", "is not a size"}}) {
        INFO(k.text);
        std::vector<ConfigDiagnostic> d;
        Config c = parse(k.text, d);
        CHECK(c.snap_length == 4096);
        CHECK(c.max_transactions == 65536);
        CHECK(c.ring_buffer_bytes == 4 * 1024 * 1024);
        REQUIRE(d.size() == 1);
        CHECK(d[0].line == 2);
        CHECK(contains(d[0].message, k.expect));
    }
}

TEST_CASE("config: time spans") {
    CHECK(parse_clean("[Transactions]\nTimeout=100ms\n").timeout_usec == 100 * kMs);
    CHECK(parse_clean("[Transactions]\nTimeout=1h\n").timeout_usec == kHour);
    CHECK(parse_clean("[Transactions]\nTimeout=1min 30s\n").timeout_usec == 90 * kSec);
    CHECK(parse_clean("[Transactions]\nTimeout=3\n").timeout_usec == 3 * kSec);
    CHECK(parse_clean("[Output]\nSummaryInterval=1s\n").summary_interval_usec == kSec);
    CHECK(parse_clean("[Output]\nSummaryInterval=24h\n").summary_interval_usec == 24 * kHour);
    CHECK(parse_clean("[Output]\nSummaryInterval=1d\n").summary_interval_usec == 24 * kHour);
    CHECK(parse_clean("[Transactions]\nTimeout=2s\nTimeout=\n").timeout_usec == 5 * kSec);

    struct Case {
        const char* text;
        unsigned line;
        const char* expect;
    };
    for (Case k : {Case{"[Transactions]\nTimeout=2s\nTimeout=abc\n", 3, "Timeout= \"abc\" is not a time span, ignoring"},
                   Case{"[Transactions]\nTimeout=2s\nTimeout=99ms\n", 3,
                        "Timeout= \"99ms\" is out of range (100ms..1h), ignoring"},
                   Case{"[Transactions]\nTimeout=2s\nTimeout=1h 1us\n", 3, "is out of range (100ms..1h)"},
                   Case{"[Transactions]\nTimeout=2s\nTimeout=-1s\n", 3, "is not a time span"},
                   Case{"[Transactions]\nTimeout=2s\n\n# c\nTimeout=5 parsecs\n", 5, "is not a time span"}}) {
        INFO(k.text);
        std::vector<ConfigDiagnostic> d;
        Config c = parse(k.text, d);
        CHECK(c.timeout_usec == 2 * kSec);
        REQUIRE(d.size() == 1);
        CHECK(d[0].line == k.line);
        CHECK(contains(d[0].message, k.expect));
    }
    for (const char* text : {"[Output]\nSummaryInterval=999ms\n", "[Output]\nSummaryInterval=24h 1s\n",
                             "[Output]\nSummaryInterval=2d\n"}) {
        INFO(text);
        std::vector<ConfigDiagnostic> d;
        Config c = parse(text, d);
        CHECK(c.summary_interval_usec == 60 * kSec);
        REQUIRE(d.size() == 1);
        CHECK(contains(d[0].message, "SummaryInterval="));
        CHECK(contains(d[0].message, "is out of range (1s..24h)"));
    }
}

TEST_CASE("parse_timespan_usec") {
    CHECK(timespan("5s") == 5 * kSec);
    CHECK(timespan("500ms") == 500 * kMs);
    CHECK(timespan("2min") == 2 * kMin);
    CHECK(timespan("1h") == kHour);
    CHECK(timespan("1.5s") == 1500 * kMs);
    CHECK(timespan("0.25min") == 15 * kSec);
    CHECK(timespan("250us") == 250);
    CHECK(timespan("250usec") == 250);
    CHECK(timespan("250\xc2\xb5s") == 250);
    CHECK(timespan("250\xce\xbcs") == 250);
    CHECK(timespan("5 s") == 5 * kSec);
    CHECK(timespan("  5s  ") == 5 * kSec);
    CHECK(timespan("5") == 5 * kSec);
    CHECK(timespan("0") == 0);
    CHECK(timespan("1min 30s") == 90 * kSec);
    CHECK(timespan("1min30s") == 90 * kSec);
    CHECK(timespan("1h 2m 3s 4ms 5us") == kHour + 2 * kMin + 3 * kSec + 4 * kMs + 5);
    CHECK(timespan("1min 30") == 90 * kSec);
    CHECK(timespan("2 hours") == 2 * kHour);
    CHECK(timespan("3 seconds") == 3 * kSec);
    CHECK(timespan("1hr") == kHour);
    CHECK(timespan("1d") == 24 * kHour);
    CHECK(timespan("1w") == 7 * 24 * kHour);
    CHECK(timespan("1M") == 2'629'800 * kSec);
    CHECK(timespan("1y") == 31'557'600 * kSec);
    CHECK(timespan("1.0000001s") == kSec);  // below microsecond resolution
    CHECK(timespan("0.000001s") == 1);
    CHECK(timespan("18446744073709551615us") == UINT64_MAX);

    for (const char* bad : {"", "   ", "abc", "-5s", "+5s", "5x", "5sx", "5 s s", ".5s", "5.s", "1.5.5s", "s",
                            "5s,", "5S", "1MIN", "infinity", "18446744073709551616us", "18446744073709551615s",
                            "99999999999999999999", "5000000y", "18446744073709551615us 1us"}) {
        INFO(bad);
        CHECK(timespan_rejected(bad));
    }
}

TEST_CASE("config: unknown keys, sections and malformed lines") {
    std::vector<ConfigDiagnostic> d;
    Config c = parse(
        "SnapLength=600\n"          // 1: before any section
        "[Capture]\n"               // 2
        "ports=5353\n"              // 3: keys are case-sensitive
        "Bogus=1\n"                 // 4
        "SnapLength 600\n"          // 5: no '='
        "=600\n"                    // 6: no key
        "[Nope]\n"                  // 7: unknown section
        "SnapLength=700\n"          // 8: ignored, no extra diagnostic
        "[Capture\n"                // 9: malformed header
        "SnapLength=800\n"          // 10: ignored
        "[Transactions]\n"          // 11
        "Ports=5353\n"              // 12: key of another section
        "MaxPending=32\n",          // 13: fine
        d);
    CHECK(c.snap_length == 4096);
    CHECK(c.ports == std::vector<uint16_t>{53});
    CHECK(c.max_transactions == 32);

    REQUIRE(d.size() == 8);
    CHECK(d[0].line == 1);
    CHECK(contains(d[0].message, "SnapLength= appears before any [Section]"));
    CHECK(d[1].line == 3);
    CHECK(contains(d[1].message, "Unknown key ports= in section [Capture] (did you mean Ports=?)"));
    CHECK(d[2].line == 4);
    CHECK(contains(d[2].message, "Unknown key Bogus= in section [Capture]"));
    CHECK(contains(d[2].message, "Ports= ServerSide= SnapLength="));
    CHECK(d[3].line == 5);
    CHECK(contains(d[3].message, "Missing '='"));
    CHECK(d[4].line == 6);
    CHECK(contains(d[4].message, "Missing key name"));
    CHECK(d[5].line == 7);
    CHECK(contains(d[5].message, "Unknown section [Nope] (known sections: [Capture] [Transactions]"));
    CHECK(d[6].line == 9);
    CHECK(contains(d[6].message, "Invalid section header \"[Capture\""));
    CHECK(d[7].line == 12);
    CHECK(contains(d[7].message, "Unknown key Ports= in section [Transactions]"));
    for (const auto& diag : d)
        CHECK(diag.file == "test.conf");
}

TEST_CASE("ConfigDiagnostic::to_string") {
    CHECK(ConfigDiagnostic{"/etc/dnsvis/dnsvis.conf", 7, "boom"}.to_string() == "/etc/dnsvis/dnsvis.conf:7: boom");
    CHECK(ConfigDiagnostic{"/etc/dnsvis/dnsvis.conf", 0, "boom"}.to_string() == "/etc/dnsvis/dnsvis.conf: boom");
}

TEST_CASE("load_config: files and drop-ins") {
    TempDir dir;
    std::string main_file = dir.file("dnsvis.conf");
    std::string dropins = dir.file("dnsvis.conf.d");

    SUBCASE("missing main file and missing drop-in dir: defaults, no diagnostics") {
        std::vector<ConfigDiagnostic> d;
        Config c = load_config(main_file, dropins, d);
        CHECK(d.empty());
        CHECK(c.ports == std::vector<uint16_t>{53});
        CHECK(c.timeout_usec == 5 * kSec);
    }

    SUBCASE("main file only") {
        dir.write("dnsvis.conf", "[Capture]\nSnapLength=1000\n");
        std::vector<ConfigDiagnostic> d;
        Config c = load_config(main_file, dropins, d);
        CHECK(d.empty());
        CHECK(c.snap_length == 1000);
    }

    SUBCASE("drop-ins override in file-name order, only *.conf regular files") {
        dir.write("dnsvis.conf",
                  "[Capture]\nSnapLength=1000\nPorts=5353\n[Transactions]\nTimeout=1s\nMaxPending=100\n");
        REQUIRE(::mkdir(dropins.c_str(), 0755) == 0);
        dir.write("dnsvis.conf.d/20-b.conf", "[Capture]\nSnapLength=2000\n[Transactions]\nTimeout=2s\n");
        dir.write("dnsvis.conf.d/10-a.conf", "[Capture]\nSnapLength=1500\nServerSide=yes\n");
        dir.write("dnsvis.conf.d/30-c.conf", "[Transactions]\nTimeout=3s\n");
        dir.write("dnsvis.conf.d/99-ignored.conf.disabled", "[Capture]\nSnapLength=600\n");
        dir.write("dnsvis.conf.d/99-ignored.txt", "[Capture]\nSnapLength=600\n");
        dir.write("dnsvis.conf.d/.99-hidden.conf", "[Capture]\nSnapLength=600\n");
        REQUIRE(::mkdir(dir.file("dnsvis.conf.d/50-dir.conf").c_str(), 0755) == 0);
        REQUIRE(::symlink("/nonexistent/dnsvis-test", dir.file("dnsvis.conf.d/60-dangling.conf").c_str()) == 0);
        REQUIRE(::symlink("/dev/null", dir.file("dnsvis.conf.d/70-masked.conf").c_str()) == 0);
        dir.write("target.txt", "[Transactions]\nMaxPending=200\n");
        REQUIRE(::symlink(dir.file("target.txt").c_str(), dir.file("dnsvis.conf.d/40-link.conf").c_str()) == 0);

        std::vector<ConfigDiagnostic> d;
        Config c = load_config(main_file, dropins, d);
        for (const auto& diag : d)
            FAIL_CHECK("unexpected diagnostic: " << diag.to_string());
        CHECK(c.snap_length == 2000);
        CHECK(c.server_side == true);
        CHECK(c.timeout_usec == 3 * kSec);
        CHECK(c.ports == std::vector<uint16_t>{5353});
        CHECK(c.max_transactions == 200);
    }

    SUBCASE("drop-ins apply without a main file") {
        REQUIRE(::mkdir(dropins.c_str(), 0755) == 0);
        dir.write("dnsvis.conf.d/a.conf", "[Visibility]\nGlobal=no\n");
        std::vector<ConfigDiagnostic> d;
        Config c = load_config(main_file, dropins, d);
        CHECK(d.empty());
        CHECK(c.global_visibility == false);
    }

    SUBCASE("diagnostics name the file and line; a bad line keeps the earlier file's value") {
        dir.write("dnsvis.conf", "[Transactions]\nTimeout=2s\n");
        REQUIRE(::mkdir(dropins.c_str(), 0755) == 0);
        std::string dropin = dir.write("dnsvis.conf.d/10-bad.conf", "# override\n[Transactions]\nTimeout=soon\n");
        std::vector<ConfigDiagnostic> d;
        Config c = load_config(main_file, dropins, d);
        CHECK(c.timeout_usec == 2 * kSec);
        REQUIRE(d.size() == 1);
        CHECK(d[0].file == dropin);
        CHECK(d[0].line == 3);
        CHECK(d[0].to_string() == dropin + ":3: Timeout= \"soon\" is not a time span, ignoring");
    }

    SUBCASE("an unreadable main file is a diagnostic with line 0, drop-ins still apply") {
        // A directory provokes a read error even for root, unlike chmod 000.
        REQUIRE(::mkdir(main_file.c_str(), 0755) == 0);
        REQUIRE(::mkdir(dropins.c_str(), 0755) == 0);
        dir.write("dnsvis.conf.d/a.conf", "[Capture]\nSnapLength=1024\n");
        std::vector<ConfigDiagnostic> d;
        Config c = load_config(main_file, dropins, d);
        CHECK(c.snap_length == 1024);
        REQUIRE(d.size() == 1);
        CHECK(d[0].file == main_file);
        CHECK(d[0].line == 0);
        CHECK(contains(d[0].message, "Cannot read"));
    }

    SUBCASE("a drop-in path that is not a directory is a diagnostic") {
        dir.write("dnsvis.conf.d", "not a directory\n");
        std::vector<ConfigDiagnostic> d;
        load_config(main_file, dropins, d);
        REQUIRE(d.size() == 1);
        CHECK(d[0].file == dropins);
        CHECK(d[0].line == 0);
    }

    SUBCASE("a main file below a non-directory is an error, not 'missing'") {
        dir.write("plain", "x");
        std::vector<ConfigDiagnostic> d;
        load_config(dir.file("plain/dnsvis.conf"), dropins, d);
        REQUIRE(d.size() == 1);
        CHECK(d[0].line == 0);
    }
}

TEST_CASE("container runtime sockets and the metadata wait") {
    Config config;
    std::vector<ConfigDiagnostic> diagnostics;
    CHECK(config.docker_socket == "/var/run/docker.sock");
    CHECK(config.metadata_wait_usec == 250'000);
    apply_config_text("[Containers]\nDockerSocket=/run/custom/docker.sock\nPodmanSocket=no\nMetadataWait=1s\n",
                      "t.conf", config, diagnostics);
    CHECK(diagnostics.empty());
    CHECK(config.docker_socket == "/run/custom/docker.sock");
    CHECK(config.podman_socket.empty());
    CHECK(config.metadata_wait_usec == 1'000'000);

    apply_config_text("[Containers]\nDockerSocket=relative.sock\nMetadataWait=10s\n", "t.conf", config, diagnostics);
    REQUIRE(diagnostics.size() == 2);
    CHECK(diagnostics[0].line == 2);
    CHECK(diagnostics[0].message.find("absolute path") != std::string::npos);
    CHECK(diagnostics[1].line == 3);
    CHECK(config.docker_socket == "/run/custom/docker.sock");  // the bad values changed nothing
    CHECK(config.metadata_wait_usec == 1'000'000);

    diagnostics.clear();
    apply_config_text("[Containers]\nDockerSocket=\n", "t.conf", config, diagnostics);
    CHECK(config.docker_socket == "/var/run/docker.sock");
}

TEST_CASE("containerd and CRI-O sockets") {
    Config config;
    std::vector<ConfigDiagnostic> diagnostics;
    CHECK(config.containerd_socket == "/run/containerd/containerd.sock");
    CHECK(config.crio_socket == "/var/run/crio/crio.sock");
    apply_config_text("[Containers]\nContainerdSocket=/run/k3s/containerd/containerd.sock\nCrioSocket=no\n", "t.conf",
                      config, diagnostics);
    CHECK(diagnostics.empty());
    CHECK(config.containerd_socket == "/run/k3s/containerd/containerd.sock");
    CHECK(config.crio_socket.empty());

    apply_config_text("[Containers]\nContainerdSocket=containerd.sock\nCrioSocket=\n", "t.conf", config, diagnostics);
    REQUIRE(diagnostics.size() == 1);
    CHECK(diagnostics[0].line == 2);
    CHECK(config.containerd_socket == "/run/k3s/containerd/containerd.sock");  // unchanged by the bad value
    CHECK(config.crio_socket == "/var/run/crio/crio.sock");                    // empty: back to the default
}
