// What the process may do, checked before anything is loaded so that a
// missing privilege gives one clear message instead of a libbpf error.
#pragma once

#include <string>

namespace dnsvis {

// Empty when the effective set allows loading and attaching the programs
// (CAP_BPF and CAP_NET_ADMIN, or CAP_SYS_ADMIN); otherwise what is missing.
std::string missing_capabilities_for_capture();

// Whether CAP_SYS_PTRACE is effective: without it /proc/PID/exe of other
// users' processes cannot be read, and DNS_EXE is left out for them.
bool can_read_other_processes();

// Whether the programs may read kernel memory (CAP_PERFMON or CAP_SYS_ADMIN),
// which lets them name the process rather than the sending thread.
bool can_read_kernel_memory();

// Once the programs are attached, running needs only CAP_SYS_PTRACE (to read
// /proc/PID/exe of other users' processes): map updates, the ring buffer and
// detaching work on file descriptors already open, and the bus, the journal
// and the container runtimes are reached over sockets that root owns.
// Leaves the effective and permitted sets holding at most CAP_SYS_PTRACE,
// clears the inheritable and ambient sets, and, when CAP_SETPCAP allows it,
// empties the bounding set of everything else. Returns an error text, or an
// empty string on success.
//
// Capabilities belong to a thread: this changes the calling thread's sets,
// and threads started later inherit them. So it runs before any other
// thread exists that is not made to drop its own
// (drop_capabilities_of_this_thread); gRPC's threads (the containerd
// client) start after it.
std::string drop_capabilities_after_attach();

// Empties the calling thread's effective, permitted and inheritable sets,
// for a helper thread that needs no privilege (it writes to an fd it was
// given). Lowering sets is always allowed, so nothing is left to report
// (test_capabilities checks every thread's sets).
void drop_capabilities_of_this_thread();

}  // namespace dnsvis
