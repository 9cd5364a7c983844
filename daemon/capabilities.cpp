#include "capabilities.hpp"

#include <sys/capability.h>

#include <cerrno>
#include <cstring>

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

std::string drop_capabilities_after_attach() {
    constexpr cap_value_t kept = CAP_SYS_PTRACE;
    cap_t current = cap_get_proc();
    if (!current)
        return std::string("cannot read the capability sets: ") + std::strerror(errno);
    cap_flag_value_t permitted = CAP_CLEAR;
    cap_get_flag(current, kept, CAP_PERMITTED, &permitted);
    cap_flag_value_t setpcap = CAP_CLEAR;
    cap_get_flag(current, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
    cap_free(current);

    // The bounding set first: dropping from it needs CAP_SETPCAP, which the
    // next step gives up. Under dnsvis.service it is already limited (and
    // NoNewPrivileges= keeps an exec from regaining anything), so without
    // CAP_SETPCAP this step is skipped.
    if (setpcap == CAP_SET) {
        for (cap_value_t c = 0; c < static_cast<cap_value_t>(cap_max_bits()); ++c)
            if (c != kept && CAP_IS_SUPPORTED(c) && cap_drop_bound(c) < 0)
                return std::string("cannot drop ") + cap_to_name(c) + " from the bounding set: " + std::strerror(errno);
    }

    cap_t wanted = cap_init();  // all three sets empty
    if (!wanted)
        return std::string("cannot allocate capability sets: ") + std::strerror(errno);
    if (permitted == CAP_SET) {
        const cap_value_t list[] = {kept};
        cap_set_flag(wanted, CAP_PERMITTED, 1, list, CAP_SET);
        cap_set_flag(wanted, CAP_EFFECTIVE, 1, list, CAP_SET);
    }
    // Lowering the permitted set clears the ambient set with it.
    const int r = cap_set_proc(wanted);
    const int error = errno;
    cap_free(wanted);
    if (r < 0)
        return std::string("cannot lower the capability sets: ") + std::strerror(error);
    return {};
}

void drop_capabilities_of_this_thread() {
    if (cap_t none = cap_init()) {
        cap_set_proc(none);
        cap_free(none);
    }
}

}  // namespace dnsvis
