// The executable of a process, read once from /proc/PID/exe and cached.
// Short-lived clients (dig, getent) are often gone by the time their event is
// handled; the failure is cached too, so a vanished pid costs one syscall.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dnsvis {

class ProcessCache {
public:
    explicit ProcessCache(size_t capacity = 8192) : capacity_(capacity) {}

    // `comm` detects pid reuse and exec: a different comm means a different
    // program, so the entry is read again.
    const std::string& exe(uint32_t pid, std::string_view comm);

    size_t size() const { return entries_.size(); }

private:
    struct Entry {
        std::string comm;
        std::string exe;
        std::list<uint32_t>::iterator age;
    };
    size_t capacity_;
    std::unordered_map<uint32_t, Entry> entries_;
    std::list<uint32_t> lru_;  // front: most recently used
};

}  // namespace dnsvis
