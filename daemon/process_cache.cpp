#include "process_cache.hpp"

#include <unistd.h>

#include <climits>
#include <cstdio>

namespace dnsvis {

namespace {

std::string read_exe(uint32_t pid) {
    char path[32];
    std::snprintf(path, sizeof path, "/proc/%u/exe", pid);
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0)
        return {};
    return std::string(target, static_cast<size_t>(n));
}

}  // namespace

const std::string& ProcessCache::exe(uint32_t pid, std::string_view comm) {
    auto it = entries_.find(pid);
    if (it != entries_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.age);
        if (it->second.comm != comm) {
            it->second.comm = std::string(comm);
            it->second.exe = read_exe(pid);
        }
        return it->second.exe;
    }
    if (entries_.size() >= capacity_) {
        entries_.erase(lru_.back());
        lru_.pop_back();
    }
    lru_.push_front(pid);
    Entry entry{std::string(comm), read_exe(pid), lru_.begin()};
    return entries_.emplace(pid, std::move(entry)).first->second.exe;
}

}  // namespace dnsvis
