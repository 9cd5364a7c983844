// What dnsvis knows about containers: the id and runtime from the cgroup
// path, and name, image and labels from the runtime's own socket, cached per
// container. Lookups are asynchronous; a caller that must not wait long
// registers a callback and decides itself how long to hold its entry.
//
// A runtime whose socket is absent costs one notice at start; its
// containers are still reported with the id derived from the cgroup. So
// are containers in a user's service manager (rootless Docker or Podman):
// the host's runtimes do not know them, and the user may have named the
// cgroup after a container they do know.
//
// An entry goes when its container exits (the caller sees its cgroup go and
// calls forget), when it has not been used for a while (for exits nobody
// saw), and the table is bounded.
#pragma once

#include <systemd/sd-event.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "container_cgroup.hpp"
#include "core/config.hpp"
#include "container_metadata.hpp"
#include "metadata_source.hpp"

namespace dnsvis {

// Where each runtime answers; empty: that runtime is not asked. The
// defaults live in Config alone (container_sockets()).
struct ContainerSockets {
    std::string docker;
    std::string podman;
    std::string containerd;
    std::string crio;
};

ContainerSockets container_sockets(const Config& config);

class ContainerRegistry {
public:
    static constexpr size_t max_containers = 4096;
    // Metadata of a container not seen for this long is dropped: containers
    // come and go, and a stopped one must not pin memory.
    static constexpr uint64_t idle_eviction_ns = 300'000'000'000;
    // A container the runtime did not know is asked again after this long.
    static constexpr uint64_t negative_ttl_ns = 10'000'000'000;

    ContainerRegistry(sd_event* event, ContainerSockets sockets);

    // nullptr when no metadata is known (yet). Shared, so an entry that waits
    // for output keeps it alive cheaply even if the registry evicts it.
    std::shared_ptr<const ContainerMetadata> metadata(const CgroupContainer& container, uint64_t now_ns);
    // Whether a runtime socket can say more about this container.
    bool can_look_up(const CgroupContainer& container);
    // True while a lookup for the container is under way.
    bool pending(const CgroupContainer& container) const;
    // Starts a lookup if none is known or under way; `ready` runs (from the
    // event loop) when it completes, whatever the outcome.
    void request(const CgroupContainer& container, uint64_t now_ns, std::function<void()> ready);
    void evict_idle(uint64_t now_ns);
    // The container exited: its metadata goes (once a lookup under way has
    // answered its waiters). Entries that wait for output keep their copy.
    void forget(const CgroupContainer& container);

    size_t size() const { return entries_.size(); }

private:
    struct Entry {
        bool in_flight = false;
        bool exited = false;  // forget() came while a lookup was under way
        std::shared_ptr<const ContainerMetadata> metadata;
        uint64_t checked_ns = 0;
        uint64_t used_ns = 0;
        std::vector<std::function<void()>> waiters;
    };
    // How a container is asked about: which runtime, in which containerd
    // namespace (the one its cgroup gave, the CRI plugin's, or none).
    enum class AskedNamespace : uint8_t { as_found, kubernetes, none };
    struct Way {
        ContainerRuntime runtime;
        AskedNamespace ns;
    };
    // At most three ways, in order, without allocating: the report path
    // asks for every transaction whose container has no metadata.
    struct Ways {
        std::array<Way, 3> way{};
        size_t count = 0;
    };

    // The client of `runtime`, or null when its socket was not there.
    MetadataSource* client_for(ContainerRuntime runtime);
    Ways ways_to_ask(const CgroupContainer& container);
    static CgroupContainer as_asked(const CgroupContainer& container, Way way);
    static std::string entry_key(const CgroupContainer& container);
    void ask(std::string key, const CgroupContainer& container, Ways ways, size_t next, uint64_t now_ns);
    void finish(const std::string& key, std::optional<ContainerMetadata> metadata, uint64_t now_ns);

    sd_event* event_;
    ContainerSockets sockets_;
    std::unique_ptr<MetadataSource> docker_;
    std::unique_ptr<MetadataSource> podman_;
    std::unique_ptr<MetadataSource> containerd_;
    std::unique_ptr<MetadataSource> crio_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace dnsvis
