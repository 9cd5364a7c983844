#include "log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "output_fd.hpp"
#include "write_all.hpp"

namespace dnsvis {

namespace {

LogLevel max_level = LogLevel::info;

// A line within PIPE_BUF, prefix included, so a pipe takes it in one piece.
constexpr size_t max_line_length = 4000;

// systemd sets JOURNAL_STREAM=dev:ino for the stream it connected to
// stderr; only then does a "<N>" prefix mean something to the reader.
bool stderr_is_journal() {
    static const bool is_journal = [] {
        const char* stream = std::getenv("JOURNAL_STREAM");
        if (!stream)
            return false;
        unsigned long long device = 0, inode = 0;
        if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2)
            return false;
        struct stat st;
        if (fstat(STDERR_FILENO, &st) < 0)
            return false;
        return st.st_dev == device && st.st_ino == inode;
    }();
    return is_journal;
}

std::atomic<bool> held{false};
std::atomic<uint64_t> dropped{0};  // lines not written: held, or stderr's reader took nothing

// The line as stderr's reader wants it.
std::string format_line(LogLevel level, std::string_view text) {
    std::string line = stderr_is_journal() ? "<" + std::to_string(static_cast<int>(level)) + ">" : "dnsvisd: ";
    line += text.substr(0, max_line_length);
    line += '\n';
    return line;
}

// One line to stderr, in one write. Like the output (json_sink.hpp), it does
// not wait for a reader that stopped reading: with `dnsvisd --output=json
// 2>&1 | less` held, a blocking write here would hold the event loop the
// sinks keep free. Such a line is counted instead. A line fits a pipe's
// atomic write (PIPE_BUF), so it arrives whole or not at all.
bool write_line(const std::string& line) {
    static OutputFd err(STDERR_FILENO);
    // A line begun is as good as said.
    return write_fully([](std::string_view rest) { return err.write(rest); }, line) > 0;
}

}  // namespace

void log_set_max_level(LogLevel level) { max_level = level; }

void log_hold(bool hold) { held = hold; }

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= static_cast<int>(max_level); }

void log_message(LogLevel level, const char* format, ...) {
    if (!log_enabled(level))
        return;
    char* text = nullptr;
    va_list args;
    va_start(args, format);
    const int length = vasprintf(&text, format, args);
    va_end(args);
    if (length < 0)
        return;
    const std::string line = format_line(level, text);
    std::free(text);
    if (held.load()) {
        ++dropped;
        return;
    }
    if (const uint64_t missed = dropped.exchange(0)) {
        const std::string note = format_line(LogLevel::notice, std::to_string(missed) + " earlier log line(s) dropped: "
                                                               "standard error's reader took nothing");
        if (!write_line(note)) {
            dropped += missed + 1;
            return;
        }
    }
    if (!write_line(line))
        ++dropped;
}

}  // namespace dnsvis
