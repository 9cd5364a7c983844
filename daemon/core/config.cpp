#include "config.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ascii.hpp"
#include "dnsvis_event.h"
#include "utf8_text.hpp"

namespace dnsvis {

namespace {

constexpr uint64_t kUsecPerMsec = 1000;
constexpr uint64_t kUsecPerSec = 1000 * kUsecPerMsec;
constexpr uint64_t kUsecPerMinute = 60 * kUsecPerSec;
constexpr uint64_t kUsecPerHour = 60 * kUsecPerMinute;
constexpr uint64_t kUsecPerDay = 24 * kUsecPerHour;
constexpr uint64_t kUsecPerWeek = 7 * kUsecPerDay;
// systemd's month and year: a Julian year and a twelfth of it.
constexpr uint64_t kUsecPerYear = 31'557'600 * kUsecPerSec;
constexpr uint64_t kUsecPerMonth = 2'629'800 * kUsecPerSec;

// Matched whole, not by prefix, so "5sx" is an error rather than 5s.
// Case matters: "M" is a month, "m" a minute, as in systemd.time(7).
struct TimeUnit {
    std::string_view name;
    uint64_t usec;
};
constexpr TimeUnit kTimeUnits[] = {
    {"us", 1},
    {"usec", 1},
    {"\xc2\xb5s", 1},  // U+00B5 MICRO SIGN
    {"\xce\xbcs", 1},  // U+03BC GREEK SMALL LETTER MU
    {"ms", kUsecPerMsec},
    {"msec", kUsecPerMsec},
    {"s", kUsecPerSec},
    {"sec", kUsecPerSec},
    {"second", kUsecPerSec},
    {"seconds", kUsecPerSec},
    {"m", kUsecPerMinute},
    {"min", kUsecPerMinute},
    {"minute", kUsecPerMinute},
    {"minutes", kUsecPerMinute},
    {"h", kUsecPerHour},
    {"hr", kUsecPerHour},
    {"hour", kUsecPerHour},
    {"hours", kUsecPerHour},
    {"d", kUsecPerDay},
    {"day", kUsecPerDay},
    {"days", kUsecPerDay},
    {"w", kUsecPerWeek},
    {"week", kUsecPerWeek},
    {"weeks", kUsecPerWeek},
    {"M", kUsecPerMonth},
    {"month", kUsecPerMonth},
    {"months", kUsecPerMonth},
    {"y", kUsecPerYear},
    {"year", kUsecPerYear},
    {"years", kUsecPerYear},
};

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_unit_char(char c) {
    // Bytes >= 0x80 let the UTF-8 micro signs through; the table decides.
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

bool checked_mul(uint64_t a, uint64_t b, uint64_t& out) {
    return !__builtin_mul_overflow(a, b, &out);
}

bool checked_add(uint64_t a, uint64_t b, uint64_t& out) {
    return !__builtin_add_overflow(a, b, &out);
}

// Plain decimal digits only: a sign, hex or a suffix in a config file is
// more likely a typo than intent.
bool parse_unsigned(std::string_view text, uint64_t& value) {
    if (text.empty())
        return false;
    uint64_t v = 0;
    for (char c : text) {
        if (!is_digit(c))
            return false;
        if (!checked_mul(v, 10, v) || !checked_add(v, static_cast<uint64_t>(c - '0'), v))
            return false;
    }
    value = v;
    return true;
}

std::string quoted(std::string_view value) {
    std::string out;
    out.reserve(value.size() + 2);
    out += '"';
    out += value;
    out += '"';
    return out;
}

// ---- keys -------------------------------------------------------------------

// A handler returns the reason a value was rejected ("is not a time span"),
// or an empty string once it has applied the value.
using KeyApply = std::string (*)(std::string_view value, Config& config);

struct KeyHandler {
    std::string_view section;
    std::string_view key;
    KeyApply apply;
};

std::string apply_ports(std::string_view value, Config& config) {
    if (value.empty()) {
        config.ports = Config{}.ports;
        return {};
    }
    std::vector<uint16_t> ports;
    size_t i = 0;
    while (i < value.size()) {
        if (is_space(value[i]) || value[i] == ',') {
            ++i;
            continue;
        }
        size_t end = i;
        while (end < value.size() && !is_space(value[end]) && value[end] != ',')
            ++end;
        std::string_view word = value.substr(i, end - i);
        uint64_t port = 0;
        if (!parse_unsigned(word, port) || port < 1 || port > 65535)
            return "is not a list of port numbers (" + quoted(word) + " is not in 1..65535)";
        // A repeated port changes nothing in the kernel filter; dropping it
        // keeps a harmless duplicate from counting against the limit.
        if (std::find(ports.begin(), ports.end(), port) == ports.end())
            ports.push_back(static_cast<uint16_t>(port));
        i = end;
    }
    if (ports.empty())
        return "is not a list of port numbers";
    if (ports.size() > DNSVIS_MAX_PORTS)
        return "lists " + std::to_string(ports.size()) + " ports, at most " +
               std::to_string(DNSVIS_MAX_PORTS) + " are supported";
    config.ports = std::move(ports);
    return {};
}

std::string apply_bool(std::string_view value, bool& field, bool default_value) {
    if (value.empty()) {
        field = default_value;
        return {};
    }
    if (!parse_boolean(value, field))
        return "is not a boolean (yes/no, true/false, on/off, 1/0)";
    return {};
}

template <typename T>
std::string apply_integer(std::string_view value, T& field, T default_value, uint64_t min, uint64_t max) {
    if (value.empty()) {
        field = default_value;
        return {};
    }
    auto range = [min, max] { return "(" + std::to_string(min) + ".." + std::to_string(max) + ")"; };
    uint64_t v = 0;
    if (!parse_unsigned(value, v))
        return "is not an integer " + range();
    if (v < min || v > max)
        return "is out of range " + range();
    field = static_cast<T>(v);
    return {};
}

std::string apply_timespan(std::string_view value, uint64_t& field, uint64_t default_value, uint64_t min,
                           uint64_t max, std::string_view range_text) {
    if (value.empty()) {
        field = default_value;
        return {};
    }
    uint64_t usec = 0;
    if (!parse_timespan_usec(value, usec))
        return "is not a time span";
    if (usec < min || usec > max)
        return "is out of range (" + std::string(range_text) + ")";
    field = usec;
    return {};
}

// An absolute path, or "no" to leave that runtime alone.
std::string apply_socket_path(std::string_view value, std::string& field, const std::string& default_value) {
    if (value.empty()) {
        field = default_value;
        return {};
    }
    bool enabled = true;
    if (parse_boolean(value, enabled) && !enabled) {
        field.clear();
        return {};
    }
    if (value.front() != '/')
        return "is not an absolute path (or \"no\")";
    field = std::string(value);
    return {};
}

std::string apply_ring_buffer_size(std::string_view value, Config& config) {
    if (value.empty()) {
        config.ring_buffer_bytes = Config{}.ring_buffer_bytes;
        return {};
    }
    uint64_t bytes = 0;
    if (!parse_size_bytes(value, bytes))
        return "is not a size (bytes, or with K, M or G)";
    if (bytes < (64u << 10) || bytes > (256u << 20))
        return "is out of range (64K..256M)";
    config.ring_buffer_bytes = static_cast<uint32_t>(bytes);
    return {};
}

constexpr KeyHandler kKeys[] = {
    {"Capture", "Ports", apply_ports},
    {"Capture", "ServerSide",
     [](std::string_view v, Config& c) { return apply_bool(v, c.server_side, Config{}.server_side); }},
    {"Capture", "SnapLength",
     [](std::string_view v, Config& c) {
         return apply_integer<uint32_t>(v, c.snap_length, Config{}.snap_length, 512, DNSVIS_MAX_CAPTURE);
     }},
    {"Capture", "RingBufferSize", apply_ring_buffer_size},
    {"Transactions", "Timeout",
     [](std::string_view v, Config& c) {
         return apply_timespan(v, c.timeout_usec, Config{}.timeout_usec, 100 * kUsecPerMsec, kUsecPerHour,
                               "100ms..1h");
     }},
    {"Transactions", "MaxPending",
     [](std::string_view v, Config& c) {
         return apply_integer<uint32_t>(v, c.max_transactions, Config{}.max_transactions, 16, 1048576);
     }},
    {"Visibility", "Global",
     [](std::string_view v, Config& c) {
         return apply_bool(v, c.global_visibility, Config{}.global_visibility);
     }},
    {"Output", "SummaryInterval",
     [](std::string_view v, Config& c) {
         return apply_timespan(v, c.summary_interval_usec, Config{}.summary_interval_usec, kUsecPerSec,
                               kUsecPerDay, "1s..24h");
     }},
    {"Containers", "DockerSocket",
     [](std::string_view v, Config& c) { return apply_socket_path(v, c.docker_socket, Config{}.docker_socket); }},
    {"Containers", "PodmanSocket",
     [](std::string_view v, Config& c) { return apply_socket_path(v, c.podman_socket, Config{}.podman_socket); }},
    {"Containers", "ContainerdSocket",
     [](std::string_view v, Config& c) {
         return apply_socket_path(v, c.containerd_socket, Config{}.containerd_socket);
     }},
    {"Containers", "CrioSocket",
     [](std::string_view v, Config& c) { return apply_socket_path(v, c.crio_socket, Config{}.crio_socket); }},
    {"Containers", "MetadataWait",
     [](std::string_view v, Config& c) {
         return apply_timespan(v, c.metadata_wait_usec, Config{}.metadata_wait_usec, 0, 5 * kUsecPerSec, "0..5s");
     }},
};

// " [Capture] [Transactions] ...": each section once, in the order of kKeys.
std::string known_sections() {
    std::string list;
    for (const KeyHandler& h : kKeys)
        if (const std::string name = " [" + std::string(h.section) + "]"; list.find(name) == std::string::npos)
            list += name;
    return list;
}

bool known_section(std::string_view section) {
    return std::any_of(std::begin(kKeys), std::end(kKeys),
                       [section](const KeyHandler& h) { return h.section == section; });
}

// Keys are case-sensitive as in systemd, so "ports=" is a common mistake;
// naming the accepted keys makes the diagnostic actionable on its own.
std::string unknown_key_message(std::string_view section, std::string_view key) {
    std::string msg = "Unknown key " + std::string(key) + "= in section [" + std::string(section) + "]";
    for (const KeyHandler& h : kKeys) {
        if (h.section == section && ascii_iequals(h.key, key))
            return msg + " (did you mean " + std::string(h.key) + "=?), ignoring";
    }
    msg += " (known keys:";
    for (const KeyHandler& h : kKeys) {
        if (h.section == section) {
            msg += ' ';
            msg += h.key;
            msg += '=';
        }
    }
    msg += "), ignoring";
    return msg;
}

// ---- files ------------------------------------------------------------------

// Large enough for any hand-written config; small enough that a drop-in
// symlinked to something huge does not balloon the daemon.
constexpr size_t kMaxConfigFileSize = 4 * 1024 * 1024;

enum class ReadResult { Ok, Missing, Error };

ReadResult read_whole_file(const std::string& path, std::string& out, std::string& error) {
    // O_NONBLOCK: opening a FIFO must not hang the daemon at start-up.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return ReadResult::Missing;
        error = std::strerror(errno);
        return ReadResult::Error;
    }
    struct stat st {};
    if (::fstat(fd, &st) < 0) {
        error = std::strerror(errno);
        ::close(fd);
        return ReadResult::Error;
    }
    if (S_ISDIR(st.st_mode)) {
        error = std::strerror(EISDIR);
        ::close(fd);
        return ReadResult::Error;
    }
    // Character devices stay allowed so that a /dev/null symlink reads as an
    // empty file, the usual way to mask a config file.
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
        error = "not a regular file";
        ::close(fd);
        return ReadResult::Error;
    }
    out.clear();
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            error = std::strerror(errno);
            ::close(fd);
            return ReadResult::Error;
        }
        if (n == 0)
            break;
        if (out.size() + static_cast<size_t>(n) > kMaxConfigFileSize) {
            error = "larger than " + std::to_string(kMaxConfigFileSize / (1024 * 1024)) + " MiB";
            ::close(fd);
            return ReadResult::Error;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return ReadResult::Ok;
}

void load_one_file(const std::string& path, Config& config, std::vector<ConfigDiagnostic>& diagnostics) {
    std::string text, error;
    switch (read_whole_file(path, text, error)) {
    case ReadResult::Ok:
        apply_config_text(text, path, config, diagnostics);
        break;
    case ReadResult::Missing:
        break;
    case ReadResult::Error:
        diagnostics.push_back({path, 0, "Cannot read configuration file: " + error + ", ignoring"});
        break;
    }
}

bool is_dropin_name(std::string_view name) {
    constexpr std::string_view suffix = ".conf";
    // Hidden files are editor and package-manager leftovers, as systemd
    // treats them.
    return name.size() > suffix.size() && name.front() != '.' &&
           name.substr(name.size() - suffix.size()) == suffix;
}

std::vector<std::string> list_dropins(const std::string& dir, std::vector<ConfigDiagnostic>& diagnostics) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        if (errno != ENOENT)
            diagnostics.push_back(
                {dir, 0, std::string("Cannot read drop-in directory: ") + std::strerror(errno) + ", ignoring"});
        return names;
    }
    for (;;) {
        errno = 0;
        struct dirent* entry = ::readdir(d);
        if (!entry) {
            if (errno != 0)
                diagnostics.push_back({dir, 0,
                                       std::string("Cannot list drop-in directory: ") + std::strerror(errno) +
                                           ", some drop-ins may be ignored"});
            break;
        }
        std::string_view name = entry->d_name;
        if (!is_dropin_name(name))
            continue;
        std::string path = dir + "/" + std::string(name);
        struct stat st {};
        // stat, not lstat: a symlinked drop-in counts; a dangling one or one
        // pointing to /dev/null (masked) does not.
        if (::stat(path.c_str(), &st) < 0) {
            if (errno != ENOENT)
                diagnostics.push_back({path, 0, std::string("Cannot stat drop-in: ") + std::strerror(errno) +
                                                    ", ignoring"});
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        names.emplace_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

std::string ConfigDiagnostic::to_string() const {
    if (line == 0)
        return file + ": " + message;
    return file + ":" + std::to_string(line) + ": " + message;
}

bool parse_boolean(std::string_view text, bool& value) {
    // The one-letter forms are accepted because systemd accepts them too.
    static constexpr std::string_view kTrue[] = {"1", "yes", "y", "true", "t", "on"};
    static constexpr std::string_view kFalse[] = {"0", "no", "n", "false", "f", "off"};
    for (std::string_view word : kTrue) {
        if (ascii_iequals(text, word)) {
            value = true;
            return true;
        }
    }
    for (std::string_view word : kFalse) {
        if (ascii_iequals(text, word)) {
            value = false;
            return true;
        }
    }
    return false;
}

bool parse_size_bytes(std::string_view text, uint64_t& bytes) {
    text = trim(text);
    // systemd's suffixes are upper case only; "1m" is more likely a slip
    // (minute? milli?) than a mebibyte.
    static constexpr struct {
        char suffix;
        uint64_t factor;
    } kSuffixes[] = {{'B', 1}, {'K', 1ull << 10}, {'M', 1ull << 20}, {'G', 1ull << 30}};
    uint64_t factor = 1;
    if (!text.empty() && !is_digit(text.back())) {
        auto it = std::find_if(std::begin(kSuffixes), std::end(kSuffixes),
                               [c = text.back()](const auto& s) { return s.suffix == c; });
        if (it == std::end(kSuffixes))
            return false;
        factor = it->factor;
        text.remove_suffix(1);
    }
    uint64_t count = 0;
    return parse_unsigned(text, count) && checked_mul(count, factor, bytes);
}

bool parse_timespan_usec(std::string_view text, uint64_t& usec) {
    text = trim(text);
    if (text.empty())
        return false;
    uint64_t total = 0;
    size_t i = 0;
    while (i < text.size()) {
        // Each component is "<digits>[.<digits>][ ]<unit>", separated by
        // optional whitespace; no unit means seconds, as in systemd.
        if (!is_digit(text[i]))
            return false;
        uint64_t whole = 0;
        while (i < text.size() && is_digit(text[i])) {
            if (!checked_mul(whole, 10, whole) || !checked_add(whole, static_cast<uint64_t>(text[i] - '0'), whole))
                return false;
            ++i;
        }
        std::string_view fraction;
        if (i < text.size() && text[i] == '.') {
            size_t start = ++i;
            while (i < text.size() && is_digit(text[i]))
                ++i;
            fraction = text.substr(start, i - start);
            if (fraction.empty())
                return false;
        }
        while (i < text.size() && is_space(text[i]))
            ++i;
        size_t unit_start = i;
        while (i < text.size() && is_unit_char(text[i]))
            ++i;
        std::string_view unit_name = text.substr(unit_start, i - unit_start);

        uint64_t multiplier = kUsecPerSec;
        if (!unit_name.empty()) {
            auto it = std::find_if(std::begin(kTimeUnits), std::end(kTimeUnits),
                                   [unit_name](const TimeUnit& u) { return u.name == unit_name; });
            if (it == std::end(kTimeUnits))
                return false;
            multiplier = it->usec;
        }

        uint64_t component = 0;
        if (!checked_mul(whole, multiplier, component))
            return false;
        // Digits past the unit's resolution add nothing, as they would round
        // to zero anyway.
        uint64_t fraction_usec = 0;
        uint64_t place = multiplier;
        for (char c : fraction) {
            place /= 10;
            if (place == 0)
                break;
            fraction_usec += static_cast<uint64_t>(c - '0') * place;
        }
        if (!checked_add(component, fraction_usec, component) || !checked_add(total, component, total))
            return false;

        while (i < text.size() && is_space(text[i]))
            ++i;
    }
    usec = total;
    return true;
}

void apply_config_text(std::string_view text, std::string_view file_name, Config& config,
                       std::vector<ConfigDiagnostic>& diagnostics) {
    enum class State { NoSection, Known, Ignored };
    State state = State::NoSection;
    std::string section;
    unsigned line_number = 0;

    // The file's own bytes go into the message: a NUL would end it early
    // in the log, and control bytes would reach the terminal.
    auto report = [&](const std::string& message) {
        diagnostics.push_back({std::string(file_name), line_number, terminal_text(message)});
    };

    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = trim(text.substr(pos, end - pos));
        pos = end + 1;
        ++line_number;

        if (line.empty() || line.front() == '#' || line.front() == ';')
            continue;

        if (line.front() == '[') {
            if (line.size() < 3 || line.back() != ']') {
                report("Invalid section header " + quoted(line) + ", ignoring lines up to the next section");
                state = State::Ignored;
                continue;
            }
            section = std::string(line.substr(1, line.size() - 2));
            if (known_section(section)) {
                state = State::Known;
            } else {
                state = State::Ignored;
                // "X-" sections are reserved for other tools' extensions,
                // as in systemd unit files.
                if (section.rfind("X-", 0) != 0)
                    report("Unknown section [" + section + "] (known sections:" + known_sections() +
                           "), ignoring its lines");
            }
            continue;
        }

        size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            report("Missing '=' in " + quoted(line) + ", expected Key=value, ignoring");
            continue;
        }
        std::string_view key = trim(line.substr(0, eq));
        std::string_view value = trim(line.substr(eq + 1));
        if (key.empty()) {
            report("Missing key name before '=' in " + quoted(line) + ", ignoring");
            continue;
        }

        if (state == State::NoSection) {
            report(std::string(key) + "= appears before any [Section] header, ignoring");
            continue;
        }
        if (state == State::Ignored)
            continue;
        const KeyHandler* handler = nullptr;
        for (const KeyHandler& h : kKeys) {
            if (h.section == section && h.key == key) {
                handler = &h;
                break;
            }
        }
        if (!handler) {
            report(unknown_key_message(section, key));
            continue;
        }
        // As in systemd, "#" starts a comment only at the start of a line.
        // One after a value ("Ports=53  # DNS") is the commonest slip, and
        // a socket path would silently take it in: say so, and keep the
        // setting as it was.
        if (const size_t hash = value.find('#');
            hash != std::string_view::npos && hash > 0 && is_space(value[hash - 1])) {
            report(std::string(key) + "= " + quoted(value) +
                   " has a comment after its value; comments take lines of their own, ignoring");
            continue;
        }
        std::string reason = handler->apply(value, config);
        if (!reason.empty())
            report(std::string(key) + "= " + quoted(value) + " " + reason + ", ignoring");
    }
}

Config load_config(const std::string& main_file, const std::string& dropin_dir,
                   std::vector<ConfigDiagnostic>& diagnostics) {
    Config config;
    load_one_file(main_file, config, diagnostics);
    for (const std::string& name : list_dropins(dropin_dir, diagnostics))
        load_one_file(dropin_dir + "/" + name, config, diagnostics);
    return config;
}

}  // namespace dnsvis
