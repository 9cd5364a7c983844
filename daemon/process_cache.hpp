// What /proc says about a process: its executable and its name (the thread
// group leader's comm: the kernel hands us the comm of the sending *thread*,
// which for dig is "isc-net-0000"). Read once and cached. Short-lived clients
// (dig, getent) are often gone by the time their answer is handled, so the
// daemon reads this when the query arrives; failures are cached too, so a
// vanished pid costs one attempt.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dnsvis {

struct ProcessInfo {
    std::string comm;  // empty: unknown
    std::string exe;   // empty: unknown
};

class ProcessCache {
public:
    explicit ProcessCache(size_t capacity = 8192) : capacity_(capacity) {}

    // `thread_comm` (what the kernel saw) detects pid reuse and exec: a
    // different one means a different program, so the entry is read again.
    const ProcessInfo& lookup(uint32_t pid, std::string_view thread_comm);

    size_t size() const { return entries_.size(); }

private:
    struct Entry {
        std::string thread_comm;
        ProcessInfo info;
        std::list<uint32_t>::iterator age;
    };
    size_t capacity_;
    std::unordered_map<uint32_t, Entry> entries_;
    std::list<uint32_t> lru_;  // front: most recently used
};

}  // namespace dnsvis
