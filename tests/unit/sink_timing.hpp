// What the sink tests need to time a sink against a reader that reads
// slowly: the reader, and the longest flush of a run of batches.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace dnsvis {

// A reader that takes a little (`step`) every `interval`, on a thread of
// its own, until stop(): a pager paging slowly, a journald wedged on its
// disk.
class PacedReader {
public:
    PacedReader(std::chrono::milliseconds interval, std::function<void()> step)
        : thread_([this, interval, step = std::move(step)] {
              while (!done_) {
                  step();
                  std::this_thread::sleep_for(interval);
              }
          }) {}
    ~PacedReader() { stop(); }
    PacedReader(const PacedReader&) = delete;
    PacedReader& operator=(const PacedReader&) = delete;

    // After this, the step no longer runs and what it read can be looked at.
    void stop() {
        done_ = true;
        if (thread_.joinable())
            thread_.join();
    }

private:
    std::atomic<bool> done_{false};
    std::thread thread_;
};

// `batches` batches of `per_batch` entries, each written by write(number)
// with `written` counting on, and each ended by a flush: how long the
// longest flush took.
template <typename Sink, typename Write>
std::chrono::steady_clock::duration longest_flush(Sink& sink, int batches, int per_batch, int& written, Write&& write) {
    std::chrono::steady_clock::duration longest{};
    for (int batch = 0; batch < batches; ++batch) {
        for (int i = 0; i < per_batch; ++i)
            write(written++);
        const auto start = std::chrono::steady_clock::now();
        sink.flush();
        longest = std::max(longest, std::chrono::steady_clock::now() - start);
    }
    return longest;
}

}  // namespace dnsvis
