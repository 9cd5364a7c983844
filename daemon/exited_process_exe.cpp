#include "exited_process_exe.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "bpf_capture.hpp"
#include "exec_record.hpp"
#include "local_path.hpp"
#include "mountinfo.hpp"
#include "process_stat.hpp"
#include "text_file.hpp"

namespace dnsvis {

namespace {

// The device of the file system mounted on "/" as the kernel numbers it
// (mountinfo's MAJOR:MINOR is the superblock's). stat() would not do: on
// btrfs it reports the subvolume's device instead.
bool root_mount_device(const char* mountinfo_path, uint32_t& kernel_dev) {
    bool found = false;
    for (const Mount& mount : parse_mountinfo(read_text_file(mountinfo_path))) {
        // The last mount on "/" is the one on top.
        if (mount.mount_point == "/") {
            kernel_dev = mount.kernel_dev;
            found = true;
        }
    }
    return found;
}

}  // namespace

HostRoot host_root() {
    HostRoot host;
    struct stat root;
    if ((stat("/proc/1/root/", &root) == 0 && root_mount_device("/proc/1/mountinfo", host.kernel_dev)) ||
        (stat("/", &root) == 0 && root_mount_device("/proc/self/mountinfo", host.kernel_dev))) {
        host.ino = root.st_ino;
        host.stat_dev = root.st_dev;
        host.known = true;
    }
    return host;
}

namespace {

uint64_t clock_ns(clockid_t clock) {
    timespec now{};
    clock_gettime(clock, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace

ExitedProcessExe exited_process_exe(const BpfCapture& capture, const HostRoot& host) {
    // Shared: the resolver keeps mountinfo open and cannot be copied.
    return [&capture, host, resolver = std::make_shared<LocalPathResolver>()](
               uint32_t pid, std::string_view comm, uint64_t seen_ns) -> std::string {
        dnsvis_exec_record record;
        if (!capture.last_exec(pid, record))
            return {};
        const std::string_view path = exe_from_exec_record(record, seen_ns, comm);
        if (path.empty())
            return {};
        std::string exe(path);
        if (!host.known || record.root_ino != host.ino || record.root_dev != host.kernel_dev)
            return exe;
        // Resolved only if it leads to the very file that was loaded: not
        // one replaced since (an upgrade), nor one hidden from our sandbox
        // (ProtectHome=), and only through local file systems; else it
        // stays as the exec named it.
        const std::optional<ResolvedPath> resolved = resolver->resolve(exe);
        if (resolved && resolved->ino == record.file_ino)
            exe = resolved->path;
        return exe;
    };
}

size_t seed_exec_records(BpfCapture& capture, const HostRoot& host) {
    if (!capture.follows_execs() || !host.known)
        return 0;
    // starttime counts ticks of the boot-time clock; the kernel's records
    // count the monotonic clock, which stops during suspend. Read in this
    // order, the difference can only come out large, a record's start early.
    const uint64_t monotonic_now = clock_ns(CLOCK_MONOTONIC);
    const uint64_t boot_minus_monotonic = clock_ns(CLOCK_BOOTTIME) - monotonic_now;
    const uint64_t ns_per_tick = 1'000'000'000 / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
    DIR* proc = opendir("/proc");
    if (!proc)
        return 0;
    std::vector<std::pair<uint32_t, dnsvis_exec_record>> running;
    while (const dirent* entry = readdir(proc)) {
        char* end = nullptr;
        const unsigned long pid = std::strtoul(entry->d_name, &end, 10);
        if (*end != '\0' || pid == 0 || pid > UINT32_MAX)
            continue;
        // Everything through one descriptor of the process's directory: if
        // the pid is reused meanwhile, it reads nothing of the new process.
        const int dir = openat(dirfd(proc), entry->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
            continue;
        // Only the host's file tree: a container's paths mean nothing here.
        // AT_STATX_DONT_SYNC: no question to a network file system's server.
        struct statx root {}, file {};
        dnsvis_exec_record record{};
        const bool described =
            statx(dir, "root/", AT_STATX_DONT_SYNC, STATX_INO, &root) == 0 &&
            makedev(root.stx_dev_major, root.stx_dev_minor) == host.stat_dev && root.stx_ino == host.ino &&
            statx(dir, "exe", AT_STATX_DONT_SYNC, STATX_INO, &file) == 0;
        const ssize_t length = described ? readlinkat(dir, "exe", record.path, sizeof record.path - 1) : -1;
        const std::optional<uint64_t> start_ticks =
            length > 0 ? start_time_from_proc_stat(read_text_file(dir, "stat")) : std::nullopt;
        std::string comm = start_ticks ? read_text_file(dir, "comm") : std::string();
        close(dir);
        const std::string_view path(record.path, length > 0 ? static_cast<size_t>(length) : 0);
        // Kernel threads have no executable; a deleted one has no path.
        if (path.empty() || path.front() != '/' || path.ends_with(" (deleted)"))
            continue;
        while (!comm.empty() && comm.back() == '\n')
            comm.pop_back();
        if (!start_ticks || comm.empty())
            continue;
        const uint64_t started_ns = *start_ticks * ns_per_tick;
        record.since_ns = started_ns > boot_minus_monotonic ? started_ns - boot_minus_monotonic : 0;
        record.file_ino = file.stx_ino;
        record.root_ino = host.ino;
        record.root_dev = host.kernel_dev;
        record.path_len = static_cast<uint32_t>(path.size() + 1);
        comm.copy(record.comm, sizeof record.comm - 1);
        running.emplace_back(static_cast<uint32_t>(pid), record);
    }
    closedir(proc);
    // The map keeps the most recent records, and inserting, even a record
    // refused, may push out the oldest: the kernel's own, of processes that
    // started during this walk, must stay. So at most half the map, the
    // youngest processes, which are likelier to exit soon.
    std::sort(running.begin(), running.end(),
              [](const auto& a, const auto& b) { return a.second.since_ns > b.second.since_ns; });
    running.resize(std::min<size_t>(running.size(), DNSVIS_MAX_EXECS / 2));
    for (const auto& [pid, record] : running)
        capture.seed_exec(pid, record);
    return running.size();
}

}  // namespace dnsvis
