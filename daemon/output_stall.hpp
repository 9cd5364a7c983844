// How long an output may hold dnsvisd while its reader takes nothing.
//
// dnsvisd has one event loop: a write that blocks because journald, or
// whatever reads standard output, has stopped reading holds the bus, the
// timers and SIGTERM with it. So the sinks write without blocking and come
// here when the reader is full: the waits of one batch (what one drain of
// the ring buffer reported, however many writes it took) together last at
// most `timeout`, and then the reader counts as stalled. The sink counts
// what it holds as lost, and no write waits until a whole batch goes
// through without a refusal: a reader that takes next to nothing (one
// entry now and then) would otherwise be waited for again at every batch.
#pragma once

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>

namespace dnsvis {

class OutputStall {
public:
    // `reader` names the reader in the log: "journald at /run/...".
    OutputStall(std::string reader, std::chrono::milliseconds timeout);

    // Whether a non-blocking write failed with `error` for want of room.
    static bool no_room(int error);

    // A write to `fd` was refused for want of room. Waits until there is
    // room, within the batch's budget: true means "try again". False once
    // the reader is stalled (said once in the log). errno is kept for the
    // caller, which reads it after the refused write.
    bool wait_for_room(int fd);
    // A non-blocking write to `fd` failed: whether to make it again, because
    // a signal interrupted it, or because room came within the budget
    // (wait_for_room()). errno is kept.
    bool try_again(int fd) { return errno == EINTR || (no_room(errno) && wait_for_room(fd)); }
    // Something of this batch reached the reader.
    void delivered() { delivered_ = true; }
    // A batch ends; the next one has a budget of its own. A stall ends
    // (said in the log) when a batch went through without a single refusal.
    void end_batch();

private:
    std::string reader_;
    std::chrono::milliseconds timeout_;
    bool stalled_ = false;
    bool refused_ = false;    // this batch met a full reader
    bool delivered_ = false;  // something of this batch went out
    std::optional<std::chrono::steady_clock::time_point> waiting_since_;  // this batch's first refusal
};

}  // namespace dnsvis
