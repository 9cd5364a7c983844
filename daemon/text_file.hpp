// Whole small text files from /proc (mountinfo, PID/cgroup).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <string>

namespace dnsvis {

// The file's contents, or an empty string when it cannot be read (a process
// that has exited has no /proc entry left: for the callers that means
// "unknown", not an error). `name` is relative to the directory `dir` is
// open on: a /proc/PID directory read through one descriptor names one
// process throughout, even if its pid is reused meanwhile.
inline std::string read_text_file(int dir, const char* name) {
    const int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return {};
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;)
        text.append(buffer, static_cast<size_t>(n));
    close(fd);
    return text;
}

inline std::string read_text_file(const std::string& path) { return read_text_file(AT_FDCWD, path.c_str()); }

}  // namespace dnsvis
