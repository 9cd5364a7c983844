// One container runtime's API, as the container registry uses it: ask about
// one container, hear back later. Implementations never block the caller;
// the answer comes from the event loop (or at once when the request cannot
// even be made).
#pragma once

#include <functional>
#include <optional>

#include "container_cgroup.hpp"
#include "container_metadata.hpp"

namespace dnsvis {

class MetadataSource {
public:
    using Callback = std::function<void(std::optional<ContainerMetadata>)>;

    virtual ~MetadataSource() = default;

    // `callback` runs exactly once, with nullopt when the runtime does not
    // know the container, does not answer in time, or is not there.
    virtual void inspect(const CgroupContainer& container, Callback callback) = 0;
    // As many requests are under way as this source allows: inspect() would
    // answer nullopt at once, which says nothing about the container.
    virtual bool busy() const = 0;
};

}  // namespace dnsvis
