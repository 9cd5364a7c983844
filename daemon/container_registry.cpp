#include "container_registry.hpp"

#include <unistd.h>

#include "log.hpp"

namespace dnsvis {

namespace {

std::unique_ptr<DockerClient> client_if_present(sd_event* event, const std::string& path, const char* what) {
    if (path.empty())
        return nullptr;
    if (access(path.c_str(), F_OK) < 0) {
        log_notice("No %s socket at %s: %s containers are reported by the id from their cgroup only", what,
                   path.c_str(), what);
        return nullptr;
    }
    return std::make_unique<DockerClient>(event, path);
}

}  // namespace

ContainerRegistry::ContainerRegistry(sd_event* event, ContainerSockets sockets)
    : event_(event), sockets_(std::move(sockets)) {
    docker_ = client_if_present(event_, sockets_.docker, "Docker");
    podman_ = client_if_present(event_, sockets_.podman, "podman");
}

DockerClient* ContainerRegistry::client_for(ContainerRuntime runtime) {
    switch (runtime) {
    case ContainerRuntime::docker: return docker_.get();
    case ContainerRuntime::podman: return podman_ ? podman_.get() : docker_.get();  // podman may serve docker.sock
    default: return nullptr;
    }
}

std::shared_ptr<const ContainerMetadata> ContainerRegistry::metadata(const CgroupContainer& container,
                                                                    uint64_t now_ns) {
    auto it = entries_.find(container.id);
    if (it == entries_.end() || !it->second.metadata)
        return nullptr;
    it->second.used_ns = now_ns;
    return it->second.metadata;
}

bool ContainerRegistry::can_look_up(const CgroupContainer& container) {
    return !container.id.empty() && client_for(container.runtime) != nullptr;
}

bool ContainerRegistry::pending(const CgroupContainer& container) const {
    auto it = entries_.find(container.id);
    return it != entries_.end() && it->second.in_flight;
}

void ContainerRegistry::request(const CgroupContainer& container, uint64_t now_ns, std::function<void()> ready) {
    if (!can_look_up(container))
        return;
    DockerClient* client = client_for(container.runtime);
    if (!client)
        return;
    auto [it, inserted] = entries_.try_emplace(container.id);
    Entry& entry = it->second;
    entry.used_ns = now_ns;
    if (entry.in_flight) {
        if (ready)
            entry.waiters.push_back(std::move(ready));
        return;
    }
    const bool fresh = entry.metadata || (!inserted && now_ns - entry.checked_ns < negative_ttl_ns);
    if (fresh)
        return;
    if (entries_.size() > max_containers)
        evict_idle(now_ns);
    entry.in_flight = true;
    if (ready)
        entry.waiters.push_back(std::move(ready));
    const std::string id = container.id;
    client->inspect(id, [this, id, now_ns](std::optional<ContainerMetadata> metadata) {
        auto found = entries_.find(id);
        if (found == entries_.end())
            return;
        Entry& done = found->second;
        done.in_flight = false;
        done.checked_ns = now_ns;
        if (metadata)
            done.metadata = std::make_shared<const ContainerMetadata>(std::move(*metadata));
        else
            done.metadata.reset();
        std::vector<std::function<void()>> waiters;
        waiters.swap(done.waiters);
        for (auto& waiter : waiters)
            waiter();
    });
}

void ContainerRegistry::evict_idle(uint64_t now_ns) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        const Entry& entry = it->second;
        const bool idle = now_ns - entry.used_ns >= idle_eviction_ns;
        if (!entry.in_flight && (idle || entries_.size() > max_containers))
            it = entries_.erase(it);
        else
            ++it;
    }
}

}  // namespace dnsvis
