// What a container runtime says about a container, and the fields dnsvis
// reports from it. Parsing is pure (no sockets) so it is unit-tested and
// hostile documents cannot take the daemon down.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "container_cgroup.hpp"

namespace dnsvis {

struct ContainerMetadata {
    std::string id;     // full id
    std::string name;   // without Docker's leading '/'
    std::string image;  // as the user named it ("nginx:1.25"), else the image id
    // The runtime that answered, where the cgroup's layout does not say
    // for sure (set by the registry; none from the parsers).
    ContainerRuntime runtime = ContainerRuntime::none;
    // Only the labels a report uses (the io.kubernetes.* ones below); names,
    // images and labels longer than 1 KiB are left out.
    std::map<std::string, std::string> labels;

    // Kubernetes identity from the io.kubernetes.* labels the kubelet sets.
    std::string k8s_namespace() const;
    std::string k8s_pod_name() const;
    std::string k8s_container_name() const;
};

// The body of GET /containers/{id}/json from the Docker Engine API (also
// served by podman's compatible socket). nullopt when it is not such a
// document.
std::optional<ContainerMetadata> parse_docker_inspect(std::string_view json);

// What containerd's containers service (Containers/Get) says: the container
// id, the image reference it was created from (empty for `ctr run --rootfs`)
// and its labels. Kubernetes' CRI plugin copies the kubelet's io.kubernetes.*
// labels there; nerdctl keeps the name it was given in "nerdctl/name"
// (containerd itself has no container names).
ContainerMetadata containerd_container_metadata(std::string id, std::string image,
                                                std::map<std::string, std::string> labels);

// The body of GET /containers/{id} on CRI-O's socket. The document does not
// repeat the id, so the caller passes the one it asked for. The image is the
// name the kubelet asked for when CRI-O recorded it
// (io.kubernetes.cri-o.ImageName), else CRI-O's own image field. The
// io.kubernetes.* keys are taken from the labels, and from the annotations
// (the kubelet's, then CRI-O's) for the ones the labels lack. nullopt when it
// is not such a document.
std::optional<ContainerMetadata> parse_crio_inspect(std::string_view id, std::string_view json);

}  // namespace dnsvis
