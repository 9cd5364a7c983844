#include "output_fd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace dnsvis {

OutputFd::OutputFd(int fd) : fd_(fd) {
    struct stat st;
    if (fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
        return;
    has_reader_ = true;
    if (S_ISSOCK(st.st_mode)) {
        mode_ = Mode::send_dontwait;
    } else if (S_ISFIFO(st.st_mode)) {
        // Fails without /proc, or for a FIFO whose reader is gone (ENXIO):
        // then the kernel's RWF_NOWAIT (Linux 6.4 and later for pipes) is
        // the other way.
        own_fd_ = open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        mode_ = own_fd_ >= 0 ? Mode::own_nonblocking : Mode::rwf_nowait;
    } else {
        mode_ = Mode::rwf_nowait;
    }
}

OutputFd::~OutputFd() {
    if (own_fd_ >= 0)
        close(own_fd_);
}

ssize_t OutputFd::write(std::string_view data) {
    switch (mode_.load(std::memory_order_relaxed)) {
    case Mode::own_nonblocking:
        return ::write(own_fd_, data.data(), data.size());
    case Mode::send_dontwait: {
        const ssize_t n = send(fd_, data.data(), data.size(), MSG_DONTWAIT);
        if (n >= 0 || errno != ENOTSOCK)
            return n;
        mode_ = Mode::plain;  // not a socket after all (cannot happen; be safe)
        break;
    }
    case Mode::rwf_nowait: {
        iovec piece{const_cast<char*>(data.data()), data.size()};
        const ssize_t n = pwritev2(fd_, &piece, 1, -1, RWF_NOWAIT);
        if (n >= 0 || (errno != EOPNOTSUPP && errno != EINVAL && errno != ENOSYS))
            return n;
        mode_ = Mode::plain;  // a terminal, or a kernel without RWF_NOWAIT here
        break;
    }
    case Mode::plain:
        break;
    }
    return ::write(fd_, data.data(), data.size());
}

}  // namespace dnsvis
