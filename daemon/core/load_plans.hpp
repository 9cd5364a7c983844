#pragma once
// Which programs dnsvisd asks the kernel to load, in what order: the first
// the kernel accepts is what runs. Kept apart from the loader so the order
// is tested without a kernel.

#include <cstdint>
#include <vector>

#include "dnsvis_event.h"

namespace dnsvis {

struct LoadPlan {
    bool read_leader_comm;   // name the thread group leader (kernel BTF, CAP_PERFMON)
    bool follow_execs;       // the exec and fork programs (the same)
    uint32_t sender_source;  // enum dnsvis_sender_source; SOCKET_MAP: the plain programs
    bool plain() const { return sender_source == DNSVIS_SENDER_SOCKET_MAP; }
};

// `kernel_structs`: the kernel has BTF and dnsvisd may read kernel memory.
// `current_helpers`: cgroup_skb programs may ask who the current process is.
// Richest first; the plain programs, which every kernel dnsvisd knows
// accepts, come last.
std::vector<LoadPlan> load_plans(bool kernel_structs, bool current_helpers);

}  // namespace dnsvis
