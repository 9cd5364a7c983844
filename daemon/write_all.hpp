// Writing a whole buffer to a file descriptor, past short writes and EINTR.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string_view>

namespace dnsvis {

// How many bytes of `data` went out: all of them, unless write() failed,
// and then what went before the failure.
inline size_t write_fully(int fd, std::string_view data) {
    size_t written = 0;
    while (written < data.size()) {
        const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        written += static_cast<size_t>(n);
    }
    return written;
}

inline bool write_all(int fd, std::string_view data) { return write_fully(fd, data) == data.size(); }

}  // namespace dnsvis
