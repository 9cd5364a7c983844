#include "container_registry.hpp"

#include <unistd.h>

#include "containerd_client.hpp"
#include "log.hpp"
#include "runtime_http_client.hpp"

namespace dnsvis {

namespace {

// Whether a runtime's socket is there; says so once when it is not. The
// runtime may still start later: its containers then keep the id from their
// cgroup until dnsvisd restarts, which costs no retry per event.
bool socket_present(const std::string& path, const char* what) {
    if (path.empty())
        return false;  // disabled in the configuration
    if (access(path.c_str(), F_OK) < 0) {
        log_notice("No %s socket at %s: %s containers are reported by the id from their cgroup only", what,
                   path.c_str(), what);
        return false;
    }
    return true;
}

std::unique_ptr<MetadataSource> http_client(sd_event* event, const std::string& path, const char* what,
                                            RuntimeHttpApi api) {
    if (!socket_present(path, what))
        return nullptr;
    return std::make_unique<RuntimeHttpClient>(event, path, api);
}

std::unique_ptr<MetadataSource> containerd_client(sd_event* event, const std::string& path) {
    if (!socket_present(path, "containerd"))
        return nullptr;
    std::string error;
    auto client = ContainerdClient::create(event, path, error);
    if (!client)
        log_warning("Cannot set up the containerd client, ignoring: %s", error.c_str());
    return client;
}

}  // namespace

ContainerSockets container_sockets(const Config& config) {
    return {config.docker_socket, config.podman_socket, config.containerd_socket, config.crio_socket};
}

ContainerRegistry::ContainerRegistry(sd_event* event, ContainerSockets sockets)
    : event_(event), sockets_(std::move(sockets)) {
    docker_ = http_client(event_, sockets_.docker, "Docker", RuntimeHttpApi::docker_engine);
    podman_ = http_client(event_, sockets_.podman, "podman", RuntimeHttpApi::docker_engine);
    containerd_ = containerd_client(event_, sockets_.containerd);
    crio_ = http_client(event_, sockets_.crio, "CRI-O", RuntimeHttpApi::crio);
}

MetadataSource* ContainerRegistry::client_for(ContainerRuntime runtime) {
    switch (runtime) {
    case ContainerRuntime::docker: return docker_.get();
    case ContainerRuntime::podman: return podman_ ? podman_.get() : docker_.get();  // podman may serve docker.sock
    case ContainerRuntime::containerd: return containerd_.get();
    case ContainerRuntime::cri_o: return crio_.get();
    default: return nullptr;
    }
}

std::shared_ptr<const ContainerMetadata> ContainerRegistry::metadata(const CgroupContainer& container,
                                                                    uint64_t now_ns) {
    if (!container.trusted_for_host())
        return nullptr;  // what the host's runtime says of this id is not this cgroup's
    auto it = entries_.find(entry_key(container));
    if (it == entries_.end() || !it->second.metadata)
        return nullptr;
    it->second.used_ns = now_ns;
    return it->second.metadata;
}

// Most layouts name the runtime that made the container; two do not say
// for sure, and their runtimes are asked in turn until one knows it:
// - the kubelet's cgroupfs driver ("/kubepods/<qos>/pod<uid>/<id>"), under
//   which any CRI runtime may run the pod: containerd (in its CRI plugin's
//   namespace), CRI-O, then Docker (cri-dockerd). A Docker host also runs
//   containerd, which does not know Docker's containers.
// - containerd's cgroupfs layout "/<namespace>/<id>", which is also Docker's
//   under a --cgroup-parent=/<name>: containerd, then Docker for a Docker id.
// None for a cgroup a user made, or a conmon monitor's (whose name anyone
// who may make a cgroup can give it): what the host's runtimes say of its
// id is not about it.
ContainerRegistry::Ways ContainerRegistry::ways_to_ask(const CgroupContainer& container) {
    Ways ways;
    if (!container.trusted_for_host())
        return ways;
    const auto add = [&](ContainerRuntime runtime, AskedNamespace ns) {
        if (client_for(runtime))
            ways.way[ways.count++] = {runtime, ns};
    };
    if (container.runtime == ContainerRuntime::none && !container.pod_uid.empty()) {
        add(ContainerRuntime::containerd, AskedNamespace::kubernetes);
        add(ContainerRuntime::cri_o, AskedNamespace::none);
        add(ContainerRuntime::docker, AskedNamespace::none);
        return ways;
    }
    add(container.runtime, AskedNamespace::as_found);
    if (container.runtime == ContainerRuntime::containerd && !container.ns.empty() && container.ns != "k8s.io" &&
        is_hex_id(container.id))
        add(ContainerRuntime::docker, AskedNamespace::none);
    return ways;
}

// `container` as `way` asks about it.
CgroupContainer ContainerRegistry::as_asked(const CgroupContainer& container, Way way) {
    CgroupContainer asked = container;
    asked.runtime = way.runtime;
    if (way.ns == AskedNamespace::kubernetes)
        asked.ns = "k8s.io";
    else if (way.ns == AskedNamespace::none)
        asked.ns.clear();
    return asked;
}

// containerd's ids are the user's choice, one set per namespace: "web" in
// two namespaces is two containers.
std::string ContainerRegistry::entry_key(const CgroupContainer& container) {
    return container.ns + '/' + container.id;
}

bool ContainerRegistry::can_look_up(const CgroupContainer& container) {
    return ways_to_ask(container).count > 0;
}

bool ContainerRegistry::pending(const CgroupContainer& container) const {
    auto it = entries_.find(entry_key(container));
    return it != entries_.end() && it->second.in_flight;
}

void ContainerRegistry::request(const CgroupContainer& container, uint64_t now_ns, std::function<void()> ready) {
    const Ways ways = ways_to_ask(container);
    if (ways.count == 0)
        return;
    std::string key = entry_key(container);
    auto [it, inserted] = entries_.try_emplace(key);
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
    if (client_for(ways.way[0].runtime)->busy()) {
        // Not asked now, and so not taken for unknown: the next request
        // for it (its next transaction, or the next cgroup event) asks.
        // Nothing is under way for it, so `ready` has nothing to wait for.
        log_debug("Not asking about container %s now: its runtime has as many lookups under way as allowed",
                  container.id.c_str());
        if (inserted)
            entries_.erase(it);
        return;
    }
    entry.in_flight = true;  // first: eviction keeps entries under way, so `entry` stays valid
    if (entries_.size() > max_containers)
        evict_idle(now_ns);
    if (ready)
        entry.waiters.push_back(std::move(ready));
    ask(std::move(key), container, ways, 0, now_ns);
}

// Asks ways.way[next]; when it does not know the container, the next way
// that is not busy, else the answer is "unknown".
void ContainerRegistry::ask(std::string key, const CgroupContainer& container, Ways ways, size_t next,
                            uint64_t now_ns) {
    const CgroupContainer asked = as_asked(container, ways.way[next]);
    client_for(asked.runtime)
        ->inspect(asked, [this, key = std::move(key), asked, ways, next,
                          now_ns](std::optional<ContainerMetadata> metadata) mutable {
            auto found = entries_.find(key);
            if (found == entries_.end())
                return;
            if (!metadata && !found->second.exited && next + 1 < ways.count &&
                !client_for(ways.way[next + 1].runtime)->busy()) {
                log_debug("%s does not know container %s; asking %s", std::string(to_string(asked.runtime)).c_str(),
                          asked.id.c_str(), std::string(to_string(ways.way[next + 1].runtime)).c_str());
                ask(std::move(key), asked, ways, next + 1, now_ns);  // the last use of this callback's state
                return;
            }
            if (metadata)
                metadata->runtime = asked.runtime;
            finish(key, std::move(metadata), now_ns);
        });
}

void ContainerRegistry::finish(const std::string& key, std::optional<ContainerMetadata> metadata, uint64_t now_ns) {
    auto found = entries_.find(key);
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
    const bool exited = done.exited;
    for (auto& waiter : waiters)
        waiter();  // may touch entries_: `done` is not used after this
    if (exited)
        if (auto again = entries_.find(key); again != entries_.end() && !again->second.in_flight)
            entries_.erase(again);  // after the waiters, which still read its metadata
}

void ContainerRegistry::forget(const CgroupContainer& container) {
    auto it = entries_.find(entry_key(container));
    if (it == entries_.end())
        return;
    log_debug("Container %s has exited: forgetting what its runtime said", container.id.c_str());
    if (it->second.in_flight)
        it->second.exited = true;
    else
        entries_.erase(it);
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
