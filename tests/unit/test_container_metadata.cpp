#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "container_metadata.hpp"

using namespace dnsvis;

namespace {

// Fixtures sit next to this file; __FILE__ is relative to the build
// directory, where meson runs the tests (as in cgroup_fixture.hpp).
std::string read_fixture(const char* name) {
    std::string file = __FILE__;
    const size_t slash = file.rfind('/');
    std::ifstream in((slash == std::string::npos ? std::string(".") : file.substr(0, slash)) + "/fixtures/" + name);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

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

TEST_CASE("containerd: the CRI plugin's io.kubernetes.* labels give the Kubernetes fields") {
    // The labels containerd's CRI plugin stores on a Kubernetes container
    // (`ctr -n k8s.io containers info ID`), image as the kubelet named it.
    const auto metadata = containerd_container_metadata(
        "a8a820fbada81c53d65a0c50e0f2a499f0edd10f42e4e1b28784619f74d0452f", "registry.k8s.io/coredns/coredns:v1.10.1",
        {{"io.cri-containerd.kind", "container"},
         {"io.kubernetes.container.name", "coredns"},
         {"io.kubernetes.pod.name", "coredns-5dd5756b68-x7k2p"},
         {"io.kubernetes.pod.namespace", "kube-system"},
         {"io.kubernetes.pod.uid", "8f2c1a3e-4b5d-4c6e-9f7a-1b2c3d4e5f60"}});
    CHECK(metadata.id == "a8a820fbada81c53d65a0c50e0f2a499f0edd10f42e4e1b28784619f74d0452f");
    CHECK(metadata.image == "registry.k8s.io/coredns/coredns:v1.10.1");
    CHECK(metadata.k8s_container_name() == "coredns");
    CHECK(metadata.k8s_pod_name() == "coredns-5dd5756b68-x7k2p");
    CHECK(metadata.k8s_namespace() == "kube-system");
    CHECK(metadata.name.empty());  // containerd has no container names
}

TEST_CASE("containerd: nerdctl's name label is the container name; ctr --rootfs has no image") {
    const auto nerdctl = containerd_container_metadata(
        "aa470170773aae4a69e6e0a509eb8c1f304140b1fea1a2d55ec93a07a78e497c", "docker.io/library/nginx:1.25",
        {{"nerdctl/name", "web"}, {"nerdctl/platform", "linux/amd64"}});
    CHECK(nerdctl.name == "web");
    CHECK(nerdctl.image == "docker.io/library/nginx:1.25");
    CHECK(nerdctl.k8s_pod_name().empty());

    const auto plain = containerd_container_metadata("redis-test", "", {});
    CHECK(plain.id == "redis-test");
    CHECK(plain.image.empty());
    CHECK(plain.name.empty());
    CHECK(plain.labels.empty());
}

TEST_CASE("CRI-O: an inspect answer gives name, image and the Kubernetes fields") {
    // tests/unit/fixtures/crio-inspect.json follows the document CRI-O's
    // GET /containers/{id} writes (its ContainerInfo type: name, pid, image,
    // image_ref, labels, annotations, crio_annotations, log_path, root,
    // sandbox, ip_addresses) for a CoreDNS pod. CRI-O is not packaged in
    // Debian 12, so it was written by hand, not captured here.
    const std::string json = read_fixture("crio-inspect.json");
    REQUIRE_FALSE(json.empty());
    const auto metadata = parse_crio_inspect("54c7476ba0dca5fc8a293fe6088d011a6b9b29ff4329220ad7d0a0974f07b1de", json);
    REQUIRE(metadata);
    CHECK(metadata->id == "54c7476ba0dca5fc8a293fe6088d011a6b9b29ff4329220ad7d0a0974f07b1de");
    CHECK(metadata->name == "k8s_coredns_coredns-5dd5756b68-x7k2p_kube-system_8f2c1a3e-4b5d-4c6e-9f7a-1b2c3d4e5f60_0");
    CHECK(metadata->image == "registry.k8s.io/coredns/coredns:v1.10.1");
    CHECK(metadata->k8s_container_name() == "coredns");
    CHECK(metadata->k8s_pod_name() == "coredns-5dd5756b68-x7k2p");
    CHECK(metadata->k8s_namespace() == "kube-system");
    // Only what a report uses is kept.
    CHECK(metadata->labels.size() == 3);
    CHECK(metadata->labels.count("io.kubernetes.container.restartCount") == 0);
    CHECK(metadata->labels.count("io.kubernetes.cri-o.Labels") == 0);
    CHECK(metadata->labels.count("io.container.manager") == 0);
}

TEST_CASE("only the labels a report uses are kept, and no value over 1 KiB") {
    std::map<std::string, std::string> labels;
    for (int i = 0; i < 1000; ++i)
        labels.emplace("org.example.image.note" + std::to_string(i), std::string(1000, 'x'));
    labels.emplace("io.kubernetes.pod.name", "web-1");
    labels.emplace("io.kubernetes.pod.namespace", std::string(1025, 'n'));
    labels.emplace("io.kubernetes.container.name", std::string(1024, 'c'));
    labels.emplace("nerdctl/name", std::string(2000, 'a'));
    const ContainerMetadata metadata = containerd_container_metadata("c1", std::string(1025, 'i'), labels);
    CHECK(metadata.labels.size() == 2);
    CHECK(metadata.k8s_pod_name() == "web-1");
    CHECK(metadata.k8s_namespace().empty());  // longer than any Kubernetes name: left out
    CHECK(metadata.k8s_container_name() == std::string(1024, 'c'));
    CHECK(metadata.name.empty());
    CHECK(metadata.image.empty());

    std::string json = R"({"Id":"d1","Name":"/web","Config":{"Image":"nginx","Labels":{)";
    for (int i = 0; i < 100; ++i)
        json += "\"note" + std::to_string(i) + "\":\"" + std::string(100, 'y') + "\",";
    json += R"("io.kubernetes.pod.name":"web-2"}}})";
    const auto docker = parse_docker_inspect(json);
    REQUIRE(docker);
    CHECK(docker->labels == std::map<std::string, std::string>{{"io.kubernetes.pod.name", "web-2"}});
    CHECK(docker->name == "web");
}

TEST_CASE("CRI-O: labels win over annotations, the requested image name over CRI-O's image field") {
    const auto metadata = parse_crio_inspect("c4d5", R"({
      "name": "k8s_app_web-1_shop_uid_0",
      "image": "sha256:ead0a4a53df89fd173874b46093b6e62d8c72967bbf606d672c9e8c9b601a4fc",
      "labels": {"io.kubernetes.pod.name": "from-label"},
      "annotations": {"io.kubernetes.pod.name": "from-annotation", "io.kubernetes.pod.namespace": "shop"},
      "crio_annotations": {"io.kubernetes.cri-o.ImageName": "example.test/web:2",
                           "io.kubernetes.container.name": "app", "io.kubernetes.pod.namespace": "other"}
    })");
    REQUIRE(metadata);
    CHECK(metadata->k8s_pod_name() == "from-label");
    CHECK(metadata->k8s_namespace() == "shop");  // the kubelet's annotations before CRI-O's
    CHECK(metadata->k8s_container_name() == "app");
    CHECK(metadata->image == "example.test/web:2");

    const auto bare = parse_crio_inspect("c4d5", R"({"name":"x","image":"","image_ref":"sha256:feed","labels":null})");
    REQUIRE(bare);
    CHECK(bare->image == "sha256:feed");
    CHECK(bare->labels.empty());
}

TEST_CASE("CRI-O: what is not an inspect answer is refused without throwing") {
    CHECK_FALSE(parse_crio_inspect("abc", "container with ID starting with abc not found: ID does not exist\n"));
    CHECK_FALSE(parse_crio_inspect("abc", "{}"));
    CHECK_FALSE(parse_crio_inspect("abc", R"({"name":42})"));
    CHECK_FALSE(parse_crio_inspect("abc", "[]"));
    CHECK_FALSE(parse_crio_inspect("", R"({"name":"x"})"));
    CHECK_FALSE(parse_crio_inspect("abc", std::string(1 << 16, '{')));
}
