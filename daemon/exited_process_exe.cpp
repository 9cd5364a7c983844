#include "exited_process_exe.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <climits>
#include <cstdlib>

#include "bpf_capture.hpp"
#include "exec_record.hpp"

namespace dnsvis {

namespace {

// The root directory of the host's file tree, as the kernel names it in a
// record: PID 1's root (readable with CAP_SYS_PTRACE, which dnsvisd keeps).
// dnsvisd's own sandbox (ProtectSystem=, PrivateTmp=) shares that root and
// only hides or remounts parts of the tree, so paths resolve the same here.
struct RootDirectory {
    uint64_t ino = 0;
    uint32_t kernel_dev = 0;
    bool known = false;
};

RootDirectory host_root() {
    struct stat root;
    if (stat("/proc/1/root/", &root) != 0 && stat("/", &root) != 0)
        return {};
    // User space's dev_t encoding is not the kernel's MKDEV().
    return {root.st_ino, (major(root.st_dev) << 20) | minor(root.st_dev), true};
}

}  // namespace

ExitedProcessExe exited_process_exe(const BpfCapture& capture) {
    return [&capture, host = host_root()](uint32_t pid, std::string_view comm, uint64_t seen_ns) -> std::string {
        dnsvis_exec_record record;
        if (!capture.last_exec(pid, record))
            return {};
        const std::string_view path = exe_from_exec_record(record, seen_ns, comm);
        if (path.empty())
            return {};
        std::string exe(path);
        // A path hidden from our sandbox (ProtectHome=) stays as named.
        char resolved[PATH_MAX];
        if (host.known && record.root_ino == host.ino && record.root_dev == host.kernel_dev &&
            realpath(exe.c_str(), resolved))
            exe = resolved;
        return exe;
    };
}

}  // namespace dnsvis
