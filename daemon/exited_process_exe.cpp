#include "exited_process_exe.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "bpf_capture.hpp"
#include "exec_record.hpp"
#include "local_path.hpp"

namespace dnsvis {

namespace {

// The root directory of the host's file tree as the kernel names it in a
// record: PID 1's root (readable with CAP_SYS_PTRACE, which dnsvisd keeps).
// dnsvisd's own sandbox (ProtectSystem=, PrivateTmp=) shares that root and
// only hides or remounts parts of the tree, so paths resolve the same here.
struct RootDirectory {
    uint64_t ino = 0;
    uint32_t kernel_dev = 0;
    bool known = false;
};

// The device of the file system mounted on "/" as the kernel numbers it
// (mountinfo's MAJOR:MINOR is the superblock's). stat() would not do: on
// btrfs it reports the subvolume's device instead.
bool root_mount_device(const char* mountinfo_path, uint32_t& kernel_dev) {
    std::ifstream mountinfo(mountinfo_path);
    bool found = false;
    for (std::string line; std::getline(mountinfo, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, mount_point;
        fields >> id >> parent >> device >> root >> mount_point;
        unsigned major = 0, minor = 0;
        // The last mount on "/" is the one on top.
        if (mount_point == "/" && std::sscanf(device.c_str(), "%u:%u", &major, &minor) == 2) {
            kernel_dev = (major << 20) | minor;
            found = true;
        }
    }
    return found;
}

RootDirectory host_root() {
    RootDirectory host;
    struct stat root;
    if ((stat("/proc/1/root/", &root) == 0 && root_mount_device("/proc/1/mountinfo", host.kernel_dev)) ||
        (stat("/", &root) == 0 && root_mount_device("/proc/self/mountinfo", host.kernel_dev))) {
        host.ino = root.st_ino;
        host.known = true;
    }
    return host;
}

}  // namespace

ExitedProcessExe exited_process_exe(const BpfCapture& capture) {
    // Shared: the resolver keeps mountinfo open and cannot be copied.
    return [&capture, host = host_root(), resolver = std::make_shared<LocalPathResolver>()](
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

}  // namespace dnsvis
