// Which container a cgroup path belongs to: pure parsing of the cgroup
// layouts container runtimes create, with both the cgroupfs and the systemd
// cgroup drivers. No I/O; the caller caches the answer per cgroup and asks the
// runtime itself to confirm it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dnsvis {

enum class ContainerRuntime : uint8_t { none, docker, containerd, cri_o, podman, systemd_nspawn };

// "docker", "containerd", "cri-o", "podman", "systemd-nspawn"; "" for none.
std::string_view to_string(ContainerRuntime runtime);

// The Kubernetes QoS class of the pod a container runs in.
enum class PodQos : uint8_t { none, guaranteed, burstable, besteffort };

// "guaranteed", "burstable", "besteffort"; "" for none.
std::string_view to_string(PodQos qos);

struct CgroupContainer {
    ContainerRuntime runtime = ContainerRuntime::none;
    // The full id: 64 lowercase hex digits for docker, cri-o, podman and the
    // Kubernetes layouts; whatever containerd was given for its cgroupfs
    // layout; the (unescaped) machine name for systemd-nspawn. Under the
    // kubelet's cgroupfs driver a bare 64-hex container cgroup does not say
    // which runtime made it (containerd, or cri-dockerd's docker): the id is
    // set and runtime stays none, for the caller to ask the runtimes.
    std::string id;
    // The containerd namespace when the layout tells it: the first component
    // of "/<namespace>/<id>" (cgroupfs driver), "k8s.io" for the CRI plugin's
    // "cri-containerd-<id>.scope". Empty otherwise.
    std::string ns;
    // The Kubernetes pod UID with its dashes ("12345678-1234-..."); the
    // systemd driver's '_' escapes are turned back into '-'. Also set (with
    // qos) for a pod cgroup that holds no recognised container.
    std::string pod_uid;
    PodQos qos = PodQos::none;
    // A CRI-O or podman conmon monitor cgroup ("crio-conmon-<id>.scope",
    // "libpod-conmon-<id>.scope"): the container's monitor, not the
    // container; id is the container's.
    bool conmon = false;
    // The cgroup may have been made, and named after any container, by a
    // user: it is inside a user's service manager (user@UID.service), where
    // rootless Docker and Podman put their containers, which the path tells;
    // or, which only its directory's owner tells (the daemon's
    // cgroup_made_by_user()), inside a subtree systemd delegated to a user
    // (Delegate=yes with User=). The host's runtimes are not asked about it
    // and container rules do not reach it (see trusted_for_host()).
    bool made_by_user = false;

    // Whether what the host's runtimes and container rules say of `id` may
    // apply: a container (not a conmon monitor) no user made.
    bool trusted_for_host() const { return !id.empty() && !conmon && !made_by_user; }

    // The first 12 characters of a 64-hex id (as "docker ps" shows it); the
    // id itself otherwise.
    std::string short_id() const;

    bool operator==(const CgroupContainer&) const = default;
};

// Whether `s` is 64 lowercase hex digits: a Docker, CRI-O or podman id.
bool is_hex_id(std::string_view s);

// The container a cgroup v2 path ("/system.slice/docker-<id>.scope") belongs
// to. The OUTERMOST container in the path decides: cgroups nested below a
// container's (its own sub-cgroups, or the cgroups of a container runtime or
// of systemd running inside it) belong to that container. A path with no
// container gives runtime none and an empty id.
CgroupContainer container_from_cgroup_path(std::string_view path);

// Whether `path` is a container's own cgroup, the outermost one naming it:
// when it is removed, the container has exited. False for the cgroups nested
// below it, for a conmon monitor's cgroup, and for paths with no container.
bool is_container_root_cgroup(std::string_view path);

}  // namespace dnsvis
