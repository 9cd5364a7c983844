#include "log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "write_all.hpp"

namespace dnsvis {

namespace {

LogLevel max_level = LogLevel::info;

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

// One line to stderr, in one write. Like the output (json_sink.hpp), it does
// not wait for a reader that stopped reading: with `dnsvisd --output=json
// 2>&1 | less` held, a blocking write here would hold the event loop the
// sinks keep free. Such a line is dropped; a line of a log fits a pipe's
// atomic write, so it arrives whole or not at all. A file or a terminal is
// written to as it is.
void write_line(std::string_view line) {
    static bool nowait = may_wait_for_reader(STDERR_FILENO);
    size_t written = 0;
    while (written < line.size()) {
        const ssize_t n = write_some(STDERR_FILENO, line.substr(written), nowait);
        if (n > 0)
            written += static_cast<size_t>(n);
        else if (n < 0 && errno == EINTR)
            continue;
        else
            break;
    }
}

}  // namespace

void log_set_max_level(LogLevel level) { max_level = level; }

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
    std::string line = stderr_is_journal() ? "<" + std::to_string(static_cast<int>(level)) + ">" : "dnsvisd: ";
    line += text;
    line += '\n';
    std::free(text);
    write_line(line);
}

}  // namespace dnsvis
