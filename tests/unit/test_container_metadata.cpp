#include <doctest/doctest.h>

#include "container_metadata.hpp"

using namespace dnsvis;

TEST_CASE("a Docker inspect document gives name, image and Kubernetes labels") {
    // Trimmed from `curl --unix-socket /var/run/docker.sock http://d/containers/ID/json`.
    const char* json = R"({
      "Id": "4b2d7c1f9e0a3b5c6d7e8f9011223344556677889900aabbccddeeff00112233",
      "Created": "2026-11-21T22:00:00Z",
      "Name": "/dnsvis-probe",
      "Image": "sha256:0123456789abcdef",
      "State": {"Status": "running", "Pid": 4242},
      "Config": {
        "Hostname": "4b2d7c1f9e0a",
        "Image": "dnsvis-busybox:test",
        "Labels": {
          "io.kubernetes.pod.name": "web-7d4b9c",
          "io.kubernetes.pod.namespace": "shop",
          "io.kubernetes.container.name": "nginx",
          "com.example.count": 3
        }
      }
    })";
    auto metadata = parse_docker_inspect(json);
    REQUIRE(metadata);
    CHECK(metadata->id == "4b2d7c1f9e0a3b5c6d7e8f9011223344556677889900aabbccddeeff00112233");
    CHECK(metadata->name == "dnsvis-probe");
    CHECK(metadata->image == "dnsvis-busybox:test");
    CHECK(metadata->k8s_pod_name() == "web-7d4b9c");
    CHECK(metadata->k8s_namespace() == "shop");
    CHECK(metadata->k8s_container_name() == "nginx");
    CHECK(metadata->labels.count("com.example.count") == 0);  // not a string: skipped
}

TEST_CASE("without a configured image the image id is reported; no labels is fine") {
    auto metadata = parse_docker_inspect(R"({"Id":"abc","Name":"/x","Image":"sha256:feed","Config":{"Labels":null}})");
    REQUIRE(metadata);
    CHECK(metadata->image == "sha256:feed");
    CHECK(metadata->labels.empty());
    CHECK(metadata->k8s_pod_name().empty());
}

TEST_CASE("documents that are not a container are refused without throwing") {
    CHECK_FALSE(parse_docker_inspect(""));
    CHECK_FALSE(parse_docker_inspect("{"));
    CHECK_FALSE(parse_docker_inspect("[]"));
    CHECK_FALSE(parse_docker_inspect(R"({"message":"No such container: abc"})"));
    CHECK_FALSE(parse_docker_inspect(R"({"Id":42})"));
    CHECK_FALSE(parse_docker_inspect(std::string(1 << 16, '[')));
}
