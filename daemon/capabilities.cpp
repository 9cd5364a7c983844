#include "capabilities.hpp"

#include <sys/capability.h>

namespace dnsvis {

namespace {

bool effective(cap_value_t capability) {
    cap_t caps = cap_get_proc();
    if (!caps)
        return false;
    cap_flag_value_t value = CAP_CLEAR;
    bool ok = cap_get_flag(caps, capability, CAP_EFFECTIVE, &value) == 0;
    cap_free(caps);
    return ok && value == CAP_SET;
}

}  // namespace

std::string missing_capabilities_for_capture() {
    if (effective(CAP_SYS_ADMIN))
        return {};
    std::string missing;
    if (!effective(CAP_BPF))
        missing = "CAP_BPF";
    if (!effective(CAP_NET_ADMIN))
        missing += missing.empty() ? "CAP_NET_ADMIN" : " and CAP_NET_ADMIN";
    return missing;
}

bool can_read_other_processes() { return effective(CAP_SYS_PTRACE); }

bool can_read_kernel_memory() { return effective(CAP_PERFMON) || effective(CAP_SYS_ADMIN); }

}  // namespace dnsvis
