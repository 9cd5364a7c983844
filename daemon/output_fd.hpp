// A file descriptor dnsvisd was handed for its output (stdout, stderr),
// written to without waiting for its reader wherever the file allows:
// - a pipe or FIFO is opened again through /proc/self/fd with O_NONBLOCK,
//   which gives dnsvisd an open file of its own: O_NONBLOCK on the one it
//   was handed would change it for every process that shares it (the
//   shell that started us, for one);
// - a socket is sent to with MSG_DONTWAIT;
// - another device asks with pwritev2(RWF_NOWAIT); a terminal cannot, and
//   is written to as it is (one held with Ctrl-S holds the writer);
// - a regular file or a block device never waits for a reader, only for
//   its disk, and is written to as it is.
#pragma once

#include <atomic>
#include <string_view>

#include <sys/types.h>

namespace dnsvis {

class OutputFd {
public:
    explicit OutputFd(int fd);
    ~OutputFd();
    OutputFd(const OutputFd&) = delete;
    OutputFd& operator=(const OutputFd&) = delete;

    // One write(2), which fails with EAGAIN where a blocking write would
    // wait for the reader. Safe to call from several threads.
    ssize_t write(std::string_view data);
    // What to poll() for room.
    int fd() const { return own_fd_ >= 0 ? own_fd_ : fd_; }
    // Whether the file is one that makes readers wait (not a regular file).
    bool has_reader() const { return has_reader_; }

private:
    enum class Mode { plain, own_nonblocking, send_dontwait, rwf_nowait };

    int fd_;
    int own_fd_ = -1;  // the pipe opened again, non-blocking
    bool has_reader_ = false;
    std::atomic<Mode> mode_{Mode::plain};
};

}  // namespace dnsvis
