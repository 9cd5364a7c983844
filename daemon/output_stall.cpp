#include "output_stall.hpp"

#include <poll.h>

#include <cerrno>

#include "log.hpp"

namespace dnsvis {

OutputStall::OutputStall(std::string reader, std::chrono::milliseconds timeout)
    : reader_(std::move(reader)), timeout_(timeout) {}

bool OutputStall::no_room(int error) {
    return error == EAGAIN || error == EWOULDBLOCK;
}

bool OutputStall::wait_for_room(int fd) {
    const int refused_with = errno;
    refused_ = true;
    bool room = false;
    if (!stalled_) {
        const auto now = std::chrono::steady_clock::now();
        if (!waiting_since_)
            waiting_since_ = now;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*waiting_since_ + timeout_ - now);
        pollfd reader{fd, POLLOUT, 0};
        const int ready = left.count() > 0 ? poll(&reader, 1, static_cast<int>(left.count())) : 0;
        // Room, or an error the next write reports; EINTR: the budget is
        // worked out again on the next call.
        room = ready > 0 || (ready < 0 && errno == EINTR);
        if (!room) {
            stalled_ = true;
            log_warning("%s took no entry for %lld ms: entries are counted as lost until it takes them again",
                        reader_.c_str(), static_cast<long long>(timeout_.count()));
        }
    }
    errno = refused_with;
    return room;
}

void OutputStall::end_batch() {
    if (stalled_ && delivered_ && !refused_) {
        stalled_ = false;
        log_notice("%s takes entries again", reader_.c_str());
    }
    waiting_since_.reset();
    refused_ = false;
    delivered_ = false;
}

}  // namespace dnsvis
