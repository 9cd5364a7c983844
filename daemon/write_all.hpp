// Writing to a file descriptor: a whole buffer past short writes and EINTR,
// or one write that does not wait for the reader of a pipe or socket.
#pragma once

#include <sys/stat.h>
#include <sys/uio.h>
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

// Whether a write to `fd` may wait for a reader: a pipe, a socket or a
// terminal may; a file or a block device only waits for its disk.
inline bool may_wait_for_reader(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
}

// One write(2) that fails with EAGAIN instead of waiting for the reader,
// while `nowait` is set. It asks with pwritev2(RWF_NOWAIT), which leaves
// the open file's flags alone: O_NONBLOCK would change them for every
// process that shares the file (the shell that started us, for one).
// Where the kernel or the file cannot do that (a terminal, Linux before
// 4.14), `nowait` is cleared and this write, and every later one, blocks.
inline ssize_t write_some(int fd, std::string_view data, bool& nowait) {
    if (nowait) {
        iovec piece{const_cast<char*>(data.data()), data.size()};
        const ssize_t n = pwritev2(fd, &piece, 1, -1, RWF_NOWAIT);
        if (n >= 0 || (errno != EOPNOTSUPP && errno != EINVAL && errno != ENOSYS))
            return n;
        nowait = false;
    }
    return ::write(fd, data.data(), data.size());
}

}  // namespace dnsvis
