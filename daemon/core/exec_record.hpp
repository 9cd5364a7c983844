// Which executable a process ran, from the kernel's record of its last exec
// (dnsvis_exec_record), for a client that has exited before dnsvisd read
// /proc/PID/exe. The record is keyed by pid alone, so it is taken only when
// nothing says it belongs to another process that had the pid.
#pragma once

#include <cstdint>
#include <string_view>

#include "dnsvis_event.h"

namespace dnsvis {

// The executable's path as the record names it, or empty when the record is
// not the querier's or names no usable path:
//   - the pid took the record (exec, or fork from a parent) after `seen_ns`,
//     when the querier's packet was seen: the pid is someone else's now, or
//     the querier ran another program since;
//   - its comm is not `owner_comm`, the name the kernel saw with the packet
//     (the thread group leader's): the querier renamed itself, or the pid's
//     holder changed in a way the record missed;
//   - the path is relative (to a working directory we cannot know), was
//     longer than the record holds, or names the process's own view of a
//     file (/proc/self/exe, /dev/fd/N).
std::string_view exe_from_exec_record(const dnsvis_exec_record& record, uint64_t seen_ns,
                                      std::string_view owner_comm);

}  // namespace dnsvis
