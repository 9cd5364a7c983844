// What /proc says about a process: its executable and its name (the thread
// group leader's comm: the kernel hands us the comm of the sending *thread*,
// which for dig is "isc-net-0000"). Read once and cached. Short-lived clients
// (dig, getent) are often gone by the time their answer is handled, so the
// daemon reads this when the query arrives; even then most have exited (the
// ring is drained up to 100 ms after the packet), and their executable is
// asked of `exited_exe`, which knows what the kernel saw them exec. Failures
// are cached too, so a vanished pid costs one attempt.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dnsvis {

struct ProcessInfo {
    std::string comm;  // empty: unknown
    std::string exe;   // empty: unknown
};

// The executable of process `pid`, gone from /proc, which the kernel saw
// named `comm` at `seen_ns`; empty when unknown.
using ExitedProcessExe = std::function<std::string(uint32_t pid, std::string_view comm, uint64_t seen_ns)>;

class ProcessCache {
public:
    explicit ProcessCache(size_t capacity = 8192) : capacity_(capacity) {}

    // Asked for the executable of a process that has already exited.
    void set_exited_exe(ExitedProcessExe exited_exe) { exited_exe_ = std::move(exited_exe); }

    // `thread_comm` (what the kernel saw at `seen_ns`) detects pid reuse and
    // exec: a different one means a different program, so the entry is read
    // again.
    const ProcessInfo& lookup(uint32_t pid, std::string_view thread_comm, uint64_t seen_ns);

    size_t size() const { return entries_.size(); }

private:
    ProcessInfo read_process(uint32_t pid, std::string_view thread_comm, uint64_t seen_ns) const;

    struct Entry {
        std::string thread_comm;
        ProcessInfo info;
        std::list<uint32_t>::iterator age;
    };
    size_t capacity_;
    ExitedProcessExe exited_exe_;
    std::unordered_map<uint32_t, Entry> entries_;
    std::list<uint32_t> lru_;  // front: most recently used
};

}  // namespace dnsvis
