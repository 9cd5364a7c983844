// Writing a whole buffer to a file descriptor, past short writes and EINTR.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string_view>

namespace dnsvis {

// How many bytes of `data` went out through `write`, one write(2) of the
// rest at a time (ssize_t(std::string_view)): all of them, unless a write
// failed, and then what went before the failure.
template <typename Write>
size_t write_fully(Write&& write, std::string_view data) {
    size_t written = 0;
    while (written < data.size()) {
        const ssize_t n = write(data.substr(written));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        written += static_cast<size_t>(n);
    }
    return written;
}

inline bool write_all(int fd, std::string_view data) {
    const auto write_to_fd = [fd](std::string_view rest) { return ::write(fd, rest.data(), rest.size()); };
    return write_fully(write_to_fd, data) == data.size();
}

}  // namespace dnsvis
