// DNS_EXE for a client that exited before dnsvisd could read /proc/PID/exe:
// the kernel's record of its last exec (the dnsvis_exec program). Most
// short-lived clients (dig, getent, curl in a script) are gone by the time
// the ring is drained, so without this they would carry no DNS_EXE at all.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "process_cache.hpp"

namespace dnsvis {

class BpfCapture;

// The root directory of the host's file tree as the kernel names it in a
// record: PID 1's root (readable with CAP_SYS_PTRACE, which dnsvisd keeps).
// dnsvisd's own sandbox (ProtectSystem=, PrivateTmp=) shares that root and
// only hides or remounts parts of the tree, so paths resolve the same here.
struct HostRoot {
    uint64_t ino = 0;
    uint32_t kernel_dev = 0;
    dev_t stat_dev = 0;  // as stat() says, to compare another process's root with
    bool known = false;  // else nothing is resolved and nothing seeded
};

// Read once at start, for the two below.
HostRoot host_root();

// Reads the records of `capture`, which must outlive what this returns.
// A path in the host's file tree (the process's root directory was PID 1's)
// is resolved as /proc/PID/exe would have resolved it, symlinks followed:
// /usr/bin/python3 becomes /usr/bin/python3.11. One in a container's tree
// is kept as the exec named it: its symlinks point into that tree; so is
// one that passes through a network, FUSE or automount file system, where
// a lookup could keep the event loop waiting (local_path.hpp).
ExitedProcessExe exited_process_exe(const BpfCapture& capture, const HostRoot& host);

// Gives the processes that were already running in the host's file tree
// when the exec program was attached a record each, as if it had seen their
// exec, so that one that exits before its last query is handled is named
// too (a client busy when dnsvisd starts or restarts). Their executable is
// read from /proc/PID/exe; the record holds from the process's start time.
// How many were recorded.
size_t seed_exec_records(BpfCapture& capture, const HostRoot& host);

}  // namespace dnsvis
