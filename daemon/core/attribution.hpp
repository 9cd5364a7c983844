// What user space learns about a socket's owner beyond what the kernel
// recorded (pid, comm, uid, cgroup id): the executable, the cgroup's path
// and units, and its container.
#pragma once

#include <memory>
#include <string>

#include "cgroup_path.hpp"
#include "container_cgroup.hpp"
#include "container_metadata.hpp"

namespace dnsvis {

struct Attribution {
    std::string exe;          // empty: unknown (process gone, or no permission)
    std::string cgroup_path;  // empty: unknown
    CgroupUnits units;
    CgroupContainer container;                            // from the cgroup path
    std::shared_ptr<const ContainerMetadata> metadata;    // from the runtime, when it answered
};

}  // namespace dnsvis
