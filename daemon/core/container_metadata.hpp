// What a container runtime says about a container, and the fields dnsvis
// reports from it. Parsing is pure (no sockets) so it is unit-tested and
// hostile documents cannot take the daemon down.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dnsvis {

struct ContainerMetadata {
    std::string id;     // full id
    std::string name;   // without Docker's leading '/'
    std::string image;  // as the user named it ("nginx:1.25"), else the image id
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

}  // namespace dnsvis
