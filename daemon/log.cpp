#include "log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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
    if (stderr_is_journal())
        std::fprintf(stderr, "<%d>%s\n", static_cast<int>(level), text);
    else
        std::fprintf(stderr, "dnsvisd: %s\n", text);
    std::free(text);
}

}  // namespace dnsvis
