#include "container_metadata.hpp"

#include <nlohmann/json.hpp>

namespace dnsvis {

namespace {

std::string label(const std::map<std::string, std::string>& labels, const char* key) {
    auto it = labels.find(key);
    return it == labels.end() ? std::string() : it->second;
}

std::string string_at(const nlohmann::json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The string members of object[key]; members of other types are skipped.
std::map<std::string, std::string> string_map_at(const nlohmann::json& object, const char* key) {
    std::map<std::string, std::string> out;
    auto it = object.find(key);
    if (it == object.end() || !it->is_object())
        return out;
    for (const auto& [name, value] : it->items())
        if (value.is_string())
            out.emplace(name, value.get<std::string>());
    return out;
}

constexpr std::string_view kubernetes_prefix = "io.kubernetes.";

// The labels a report uses; the rest are not kept. The registry caches
// thousands of containers, and a container's labels are its image's too
// (Docker and containerd's CRI plugin copy them over), so an image could
// otherwise pin a megabyte of labels in dnsvisd per container.
constexpr const char* label_pod_namespace = "io.kubernetes.pod.namespace";
constexpr const char* label_pod_name = "io.kubernetes.pod.name";
constexpr const char* label_container_name = "io.kubernetes.container.name";
constexpr std::string_view reported_labels[] = {label_pod_namespace, label_pod_name, label_container_name};
// Far longer than any real name, image reference or Kubernetes name (253).
constexpr size_t max_value_bytes = 1024;

void drop_if_too_long(std::string& value) {
    if (value.size() > max_value_bytes)
        value.clear();
}

// What the report uses, each value within max_value_bytes: a longer one is
// no real name and is left out.
ContainerMetadata kept_for_reports(ContainerMetadata metadata) {
    drop_if_too_long(metadata.name);
    drop_if_too_long(metadata.image);
    std::map<std::string, std::string> kept;
    for (std::string_view key : reported_labels)
        if (auto it = metadata.labels.find(std::string(key));
            it != metadata.labels.end() && it->second.size() <= max_value_bytes)
            kept.emplace(key, std::move(it->second));
    metadata.labels = std::move(kept);
    return metadata;
}

}  // namespace

std::string ContainerMetadata::k8s_namespace() const { return label(labels, label_pod_namespace); }
std::string ContainerMetadata::k8s_pod_name() const { return label(labels, label_pod_name); }
std::string ContainerMetadata::k8s_container_name() const { return label(labels, label_container_name); }

std::optional<ContainerMetadata> parse_docker_inspect(std::string_view json) {
    // No exceptions escape: a runtime answering garbage is the runtime's
    // problem, reported as "no metadata", never the daemon's.
    const nlohmann::json document = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (!document.is_object())
        return std::nullopt;
    ContainerMetadata metadata;
    metadata.id = string_at(document, "Id");
    if (metadata.id.empty())
        return std::nullopt;
    metadata.name = string_at(document, "Name");
    if (!metadata.name.empty() && metadata.name.front() == '/')
        metadata.name.erase(0, 1);
    if (auto config = document.find("Config"); config != document.end() && config->is_object()) {
        metadata.image = string_at(*config, "Image");
        metadata.labels = string_map_at(*config, "Labels");
    }
    if (metadata.image.empty())
        metadata.image = string_at(document, "Image");  // the image id, when the config names none
    return kept_for_reports(std::move(metadata));
}

ContainerMetadata containerd_container_metadata(std::string id, std::string image,
                                                std::map<std::string, std::string> labels) {
    ContainerMetadata metadata;
    metadata.id = std::move(id);
    metadata.image = std::move(image);
    metadata.name = label(labels, "nerdctl/name");
    metadata.labels = std::move(labels);
    return kept_for_reports(std::move(metadata));
}

std::optional<ContainerMetadata> parse_crio_inspect(std::string_view id, std::string_view json) {
    const nlohmann::json document = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (!document.is_object() || id.empty())
        return std::nullopt;
    // CRI-O answers every container with at least its name; an error body
    // ("container with ID ... not found") is plain text, refused above.
    ContainerMetadata metadata;
    metadata.name = string_at(document, "name");
    if (metadata.name.empty())
        return std::nullopt;
    metadata.id = std::string(id);
    metadata.labels = string_map_at(document, "labels");
    const auto annotations = string_map_at(document, "annotations");
    const auto crio_annotations = string_map_at(document, "crio_annotations");
    for (const auto* more : {&annotations, &crio_annotations})
        for (const auto& [key, value] : *more)
            if (std::string_view(key).starts_with(kubernetes_prefix) && !key.starts_with("io.kubernetes.cri-o."))
                metadata.labels.emplace(key, value);  // emplace: a label already there wins
    metadata.image = label(crio_annotations, "io.kubernetes.cri-o.ImageName");
    if (metadata.image.empty())
        metadata.image = string_at(document, "image");
    if (metadata.image.empty())
        metadata.image = string_at(document, "image_ref");
    return kept_for_reports(std::move(metadata));
}

}  // namespace dnsvis
