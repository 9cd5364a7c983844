// Writes whole lines to a regular file from a thread of its own.
//
// Why: writing to a file is mostly the kernel's work, not dnsvisd's: page
// cache pages are allocated and charged for every 4 KiB of entries, more
// than half of dnsvisd's CPU at saturation (perf, 2026-12-06). Done in the
// event loop, that time is time the loop does not drain the ring buffer;
// in a thread the two run side by side, and the event loop (the bus,
// timers, signals) waits for the disk only once a bound of queued output
// is reached.
//
// The thread runs at the event loop's priority. At a nice value 10 higher
// (until 2026-12-06) the host's busy threads starved it: at saturation
// (tests/bench, 10 s windows) the queue filled, the loop waited on it, and
// the ring buffer overflowed in four rounds of five, 1.5k to 254k
// transactions lost a window, where at nice 0 none was, for the same qps
// (0.998 of the nicer build's, round by round).
//
// Only regular files and block devices: they never make a writer wait for
// a reader, so nothing here needs the stall handling of pipes
// (json_sink.hpp). A disk that refuses writes (full, or over a size limit)
// costs the lines that did not fit, counted; a line whose start went out is
// finished first once the disk takes writes again, as the JSON sink does for
// pipes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dnsvis {

class FileWriter {
public:
    // `max_queued` bounds the bytes waiting for the thread: past it, write()
    // waits, as a write(2) to a slow disk would.
    explicit FileWriter(int fd, size_t max_queued = 1024 * 1024);
    ~FileWriter();  // finish()
    FileWriter(const FileWriter&) = delete;
    FileWriter& operator=(const FileWriter&) = delete;

    // Queues whole lines, in order.
    void write(std::string_view lines);
    // Waits until everything queued is written or failed.
    void wait_until_written();
    // Waits until everything queued is written or failed, then stops the
    // thread. A line whose start went out and whose end never did counts
    // as lost. Nothing may be written afterwards.
    void finish();
    // Lines lost since the last call.
    uint64_t take_lost();
    // The errno of the last write that failed, or 0 when the last one went
    // through: the caller says so once.
    int error() const;

private:
    void run();
    void write_chunk(const std::string& chunk);
    // One write(2) after another until `text` is out or the file refuses
    // more: how much went out. Sets error_.
    size_t write_out(std::string_view text);

    const int fd_;
    const size_t max_queued_;

    mutable std::mutex mutex_;
    std::condition_variable queued_;   // the thread waits for work
    std::condition_variable drained_;  // write() waits for room, wait_until_written() for none queued
    std::deque<std::string> chunks_;
    std::vector<std::string> spare_;  // written chunks, kept for their memory
    size_t queued_bytes_ = 0;  // the chunk being written included
    bool stopping_ = false;
    uint64_t lost_ = 0;
    int error_ = 0;

    // The thread's own: the rest of a line whose start went out.
    std::string begun_tail_;
    std::thread thread_;
};

}  // namespace dnsvis
