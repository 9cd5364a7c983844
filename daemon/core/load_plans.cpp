#include "load_plans.hpp"

namespace dnsvis {

std::vector<LoadPlan> load_plans(bool kernel_structs, bool current_helpers) {
    std::vector<LoadPlan> plans;
    if (kernel_structs) {
        // Without the helpers the egress program reads the sending task.
        const uint32_t sender = current_helpers ? DNSVIS_SENDER_HELPERS : DNSVIS_SENDER_TASK;
        plans.push_back({true, true, sender});
        plans.push_back({true, false, sender});
    }
    if (current_helpers)
        plans.push_back({false, false, DNSVIS_SENDER_HELPERS});
    plans.push_back({false, false, DNSVIS_SENDER_SOCKET_MAP});
    return plans;
}

}  // namespace dnsvis
