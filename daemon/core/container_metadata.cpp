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

}  // namespace

std::string ContainerMetadata::k8s_namespace() const { return label(labels, "io.kubernetes.pod.namespace"); }
std::string ContainerMetadata::k8s_pod_name() const { return label(labels, "io.kubernetes.pod.name"); }
std::string ContainerMetadata::k8s_container_name() const { return label(labels, "io.kubernetes.container.name"); }

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
        if (auto labels = config->find("Labels"); labels != config->end() && labels->is_object())
            for (const auto& [key, value] : labels->items())
                if (value.is_string())
                    metadata.labels.emplace(key, value.get<std::string>());
    }
    if (metadata.image.empty())
        metadata.image = string_at(document, "Image");  // the image id, when the config names none
    return metadata;
}

}  // namespace dnsvis
