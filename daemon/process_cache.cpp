#include "process_cache.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>

namespace dnsvis {

ProcessInfo ProcessCache::read_process(uint32_t pid, std::string_view thread_comm, uint64_t seen_ns) const {
    ProcessInfo info;
    char path[40];
    std::snprintf(path, sizeof path, "/proc/%u/exe", pid);
    char target[PATH_MAX];
    if (ssize_t n = readlink(path, target, sizeof target - 1); n > 0)
        info.exe.assign(target, static_cast<size_t>(n));
    else if (errno == ENOENT && exited_exe_)
        info.exe = exited_exe_(pid, thread_comm, seen_ns);

    std::snprintf(path, sizeof path, "/proc/%u/comm", pid);
    if (int fd = open(path, O_RDONLY | O_CLOEXEC); fd >= 0) {
        char comm[64];
        ssize_t n = read(fd, comm, sizeof comm);
        close(fd);
        while (n > 0 && comm[n - 1] == '\n')
            --n;
        if (n > 0)
            info.comm.assign(comm, static_cast<size_t>(n));
    }
    return info;
}

const ProcessInfo& ProcessCache::lookup(uint32_t pid, std::string_view thread_comm, uint64_t seen_ns) {
    auto it = entries_.find(pid);
    if (it != entries_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.age);
        if (it->second.thread_comm != thread_comm) {
            it->second.thread_comm = std::string(thread_comm);
            it->second.info = read_process(pid, thread_comm, seen_ns);
        }
        return it->second.info;
    }
    if (entries_.size() >= capacity_) {
        entries_.erase(lru_.back());
        lru_.pop_back();
    }
    lru_.push_front(pid);
    Entry entry{std::string(thread_comm), read_process(pid, thread_comm, seen_ns), lru_.begin()};
    return entries_.emplace(pid, std::move(entry)).first->second.info;
}

}  // namespace dnsvis
