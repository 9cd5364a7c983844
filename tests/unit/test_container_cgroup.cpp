#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "container_cgroup.hpp"

#include "cgroup_fixture.hpp"

using namespace dnsvis;
using dnsvis::test::cgroup_fixture_path;
using dnsvis::test::split_tabs;

namespace {

// Column `i`, with '-' and a missing trailing column both empty.
std::string column(const std::vector<std::string>& columns, size_t i) {
    if (i >= columns.size() || columns[i] == "-")
        return std::string();
    return columns[i];
}

struct FixtureEntry {
    unsigned line = 0;
    std::string path, runtime, id, pod_uid, qos, ns, conmon;
};

std::vector<FixtureEntry> read_fixture() {
    std::vector<FixtureEntry> entries;
    std::ifstream in(cgroup_fixture_path());
    REQUIRE_MESSAGE(in.good(), "cannot open fixture " << cgroup_fixture_path());
    std::string line;
    unsigned number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty() || line.front() == '#')
            continue;
        INFO("fixture line " << number << ": " << line);
        std::vector<std::string> columns = split_tabs(line);
        REQUIRE(columns.size() >= 4);
        REQUIRE(columns.size() <= 10);
        entries.push_back({number, columns[0], column(columns, 4), column(columns, 5), column(columns, 6),
                           column(columns, 7), column(columns, 8), column(columns, 9)});
    }
    return entries;
}

const std::string kHex = "4a7d2c9f1e3b5a8d0c6e2f4b7a9d1c3e5f7b9a2d4c6e8f0a1b3d5c7e9f2a4b6d";

}  // namespace

TEST_CASE("cgroup fixture: every real-world path maps to its container") {
    std::vector<FixtureEntry> entries = read_fixture();
    CHECK(entries.size() >= 50);

    size_t containers = 0;
    for (const FixtureEntry& e : entries) {
        INFO("fixture line " << e.line << ": " << e.path);
        CgroupContainer c = container_from_cgroup_path(e.path);
        CHECK(std::string(to_string(c.runtime)) == e.runtime);
        CHECK(c.id == e.id);
        CHECK(c.pod_uid == e.pod_uid);
        CHECK(std::string(to_string(c.qos)) == e.qos);
        CHECK(c.ns == e.ns);
        CHECK(c.conmon == (e.conmon == "conmon"));
        if (!e.conmon.empty())
            CHECK(e.conmon == "conmon");
        if (!e.id.empty())
            ++containers;
    }
    CHECK(containers >= 35);
}

TEST_CASE("to_string") {
    CHECK(to_string(ContainerRuntime::none).empty());
    CHECK(to_string(ContainerRuntime::docker) == "docker");
    CHECK(to_string(ContainerRuntime::containerd) == "containerd");
    CHECK(to_string(ContainerRuntime::cri_o) == "cri-o");
    CHECK(to_string(ContainerRuntime::podman) == "podman");
    CHECK(to_string(ContainerRuntime::systemd_nspawn) == "systemd-nspawn");
    CHECK(to_string(PodQos::none).empty());
    CHECK(to_string(PodQos::guaranteed) == "guaranteed");
    CHECK(to_string(PodQos::burstable) == "burstable");
    CHECK(to_string(PodQos::besteffort) == "besteffort");
}

TEST_CASE("CgroupContainer::short_id") {
    CgroupContainer c;
    CHECK(c.short_id().empty());
    c.id = kHex;
    CHECK(c.short_id() == "4a7d2c9f1e3b");
    c.id = "redis-test";
    CHECK(c.short_id() == "redis-test");
    c.id = "my-container-with-a-long-name";
    CHECK(c.short_id() == "my-container-with-a-long-name");
    c.id = kHex.substr(0, 63);  // not a full hex id: kept whole
    CHECK(c.short_id() == c.id);
    CHECK(container_from_cgroup_path("/docker/" + kHex).short_id() == "4a7d2c9f1e3b");
}

TEST_CASE("container_from_cgroup_path: no container") {
    for (const char* p :
         {"", "/", "//", "/init.scope", "/system.slice", "/system.slice/nginx.service", "/user.slice",
          "/user.slice/user-1000.slice/session-3.scope", "/machine.slice", "/kubepods.slice",
          "/kubepods.slice/kubepods-burstable.slice", "/kubepods", "/kubepods/burstable", "/libpod_parent",
          "/libpod_parent/conmon", "/system.slice/docker.service", "/system.slice/docker.socket"}) {
        INFO(p);
        CHECK(container_from_cgroup_path(p) == CgroupContainer{});
    }
}

TEST_CASE("container_from_cgroup_path: Docker") {
    SUBCASE("cgroupfs, systemd driver and nesting") {
        for (const std::string& p : std::vector<std::string>{
                 "/docker/" + kHex, "/docker/" + kHex + "/", "//docker//" + kHex, "docker/" + kHex,
                 "/docker/" + kHex + "/init", "/docker/" + kHex + "/a/b/c", "/system.slice/docker-" + kHex + ".scope",
                 "/system.slice/docker-" + kHex + ".scope/init", "/custom.slice/docker-" + kHex + ".scope"}) {
            INFO(p);
            CgroupContainer c = container_from_cgroup_path(p);
            CHECK(c.runtime == ContainerRuntime::docker);
            CHECK(c.id == kHex);
            CHECK(c.ns.empty());
            CHECK(c.pod_uid.empty());
            CHECK(c.qos == PodQos::none);
            CHECK_FALSE(c.conmon);
        }
    }
    SUBCASE("/docker alone, or without a valid id below it") {
        std::string upper = kHex;
        for (char& ch : upper)
            if (ch >= 'a' && ch <= 'f')
                ch = static_cast<char>(ch - 'a' + 'A');
        std::string non_hex = kHex;
        non_hex[10] = 'g';
        for (const std::string& p : std::vector<std::string>{
                 std::string("/docker"), std::string("/docker/"), "/docker/" + kHex.substr(0, 63),
                 "/docker/" + kHex + "0", "/docker/" + upper, "/docker/" + non_hex,
                 std::string("/docker/buildkit/abcdefghijklmnopqrstuvwxy"),
                 "/system.slice/docker-" + kHex.substr(0, 63) + ".scope", "/system.slice/docker-" + upper + ".scope",
                 "/system.slice/docker-" + non_hex + ".scope", "/system.slice/docker-" + kHex + ".service",
                 "/system.slice/docker-" + kHex, "/system.slice/docker-.scope"}) {
            INFO(p);
            CgroupContainer c = container_from_cgroup_path(p);
            CHECK(c.runtime == ContainerRuntime::none);
            CHECK(c.id.empty());
        }
    }
    SUBCASE("relative paths, as a reader inside a cgroup namespace sees other cgroups") {
        CgroupContainer c = container_from_cgroup_path("/../../system.slice/docker-" + kHex + ".scope");
        CHECK(c.runtime == ContainerRuntime::docker);
        CHECK(c.id == kHex);
        CHECK(container_from_cgroup_path("/../default/redis") == CgroupContainer{});
    }
    SUBCASE("the outermost container wins") {
        std::string inner = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d";
        CHECK(container_from_cgroup_path("/docker/" + kHex + "/docker/" + inner).id == kHex);
        CHECK(
            container_from_cgroup_path("/system.slice/docker-" + kHex + ".scope/libpod-" + inner + ".scope").runtime ==
            ContainerRuntime::docker);
        CgroupContainer c = container_from_cgroup_path("/machine.slice/machine-outer.scope/payload/docker/" + inner);
        CHECK(c.runtime == ContainerRuntime::systemd_nspawn);
        CHECK(c.id == "outer");
    }
}

TEST_CASE("container_from_cgroup_path: CRI-O and podman") {
    SUBCASE("conmon cgroups carry the container's id") {
        CgroupContainer c = container_from_cgroup_path("/machine.slice/libpod-conmon-" + kHex + ".scope");
        CHECK(c.runtime == ContainerRuntime::podman);
        CHECK(c.id == kHex);
        CHECK(c.conmon);
        c = container_from_cgroup_path("/system.slice/crio-conmon-" + kHex + ".scope");
        CHECK(c.runtime == ContainerRuntime::cri_o);
        CHECK(c.id == kHex);
        CHECK(c.conmon);
        c = container_from_cgroup_path("/system.slice/crio-" + kHex + ".scope");
        CHECK(c.runtime == ContainerRuntime::cri_o);
        CHECK_FALSE(c.conmon);
    }
    SUBCASE("podman cgroupfs and split layouts") {
        CHECK(container_from_cgroup_path("/libpod_parent/libpod-" + kHex) ==
              CgroupContainer{ContainerRuntime::podman, kHex, "", "", PodQos::none, false});
        CHECK(container_from_cgroup_path("/system.slice/foo.service/libpod-payload-" + kHex).runtime ==
              ContainerRuntime::podman);
    }
    SUBCASE("ids must be 64 lowercase hex digits") {
        for (const std::string& p : std::vector<std::string>{
                 "/machine.slice/libpod-" + kHex.substr(1) + ".scope", "/machine.slice/libpod-conmon-abc.scope",
                 "/machine.slice/libpod-ABCDEF" + kHex.substr(6) + ".scope", "/system.slice/crio-" + kHex + "a.scope",
                 "/system.slice/crio-conmon-.scope", "/libpod_parent/libpod-xyz", "/system.slice/libpod.scope"}) {
            INFO(p);
            CHECK(container_from_cgroup_path(p) == CgroupContainer{});
        }
    }
}

TEST_CASE("container_from_cgroup_path: systemd-nspawn") {
    SUBCASE("escaped names are unescaped") {
        CHECK(container_from_cgroup_path("/machine.slice/machine-my\\x2dbox.scope").id == "my-box");
        CHECK(container_from_cgroup_path("/machine.slice/machine-a\\x2db\\x2dc.scope/payload").id == "a-b-c");
        CHECK(container_from_cgroup_path("/machine.slice/systemd-nspawn@web\\x2d01.service").id == "web-01");
        // Upper-case hex digits in an escape, and a backslash that is no escape.
        CHECK(container_from_cgroup_path("/machine.slice/machine-x\\x2Dy.scope").id == "x-y");
        CHECK(container_from_cgroup_path("/machine.slice/machine-x\\x2.scope").id == "x\\x2");
        CHECK(container_from_cgroup_path("/machine.slice/machine-debian.scope").runtime ==
              ContainerRuntime::systemd_nspawn);
    }
    SUBCASE("only directly below machine.slice") {
        CHECK(container_from_cgroup_path("/system.slice/machine-debian.scope") == CgroupContainer{});
        CHECK(container_from_cgroup_path("/machine-debian.scope") == CgroupContainer{});
        CHECK(container_from_cgroup_path("/system.slice/systemd-nspawn@debian.service") == CgroupContainer{});
    }
    SUBCASE("not a machine") {
        for (const char* p : {"/machine.slice/machine-.scope", "/machine.slice/machine-debian.service",
                              "/machine.slice/machine-libpod_pod_abc.slice", "/machine.slice/systemd-nspawn@.service",
                              "/machine.slice/machine-a\\x2fb.scope", "/machine.slice/machine-qemu\\x2d3\\x2dvm.scope",
                              "/machine.slice/machine-lxc\\x2d12\\x2dweb.scope"}) {
            INFO(p);
            CHECK(container_from_cgroup_path(p) == CgroupContainer{});
        }
        // "qemu-" without libvirt's number is just a machine name.
        CHECK(container_from_cgroup_path("/machine.slice/machine-qemu\\x2dtest.scope").id == "qemu-test");
    }
}

TEST_CASE("container_from_cgroup_path: containerd cgroupfs /<namespace>/<id>") {
    SUBCASE("accepted") {
        CgroupContainer c = container_from_cgroup_path("/default/redis-test/nested");
        CHECK(c.runtime == ContainerRuntime::containerd);
        CHECK(c.id == "redis-test");
        CHECK(c.ns == "default");
        c = container_from_cgroup_path("/buildkit_history.v1/a_b.c-d");
        CHECK(c.runtime == ContainerRuntime::containerd);
        CHECK(c.ns == "buildkit_history.v1");
        CHECK(c.id == "a_b.c-d");
        std::string longest(76, 'a');
        CHECK(container_from_cgroup_path("/default/" + longest).id == longest);
    }
    SUBCASE("rejected") {
        std::string too_long(77, 'a');
        for (std::string p : {std::string("/default"),
                              "/default/" + too_long,
                              std::string("/default/-x"),
                              std::string("/default/x-"),
                              std::string("/default/a..b"),
                              std::string("/default/a b"),
                              std::string("/-ns/x"),
                              std::string("/ns./x"),
                              std::string("/system.slice/x"),
                              std::string("/init.scope/x"),
                              std::string("/user.slice/x"),
                              std::string("/docker/abc"),
                              std::string("/kubepods/abc"),
                              std::string("/kubelet/abc"),
                              std::string("/libpod_parent/abc"),
                              std::string("/machine/vm.libvirt-qemu"),
                              std::string("/lxc.payload.web/x"),
                              std::string("/lxc.payload.web/system.slice/nginx.service"),
                              std::string("/lxc/web"),
                              std::string("/ecs/0123456789abcdef0123456789abcdef/" + kHex),
                              std::string("/default/nginx.service")}) {
            INFO(p);
            CHECK(container_from_cgroup_path(p) == CgroupContainer{});
        }
    }
    SUBCASE("only at the top level") {
        CHECK(container_from_cgroup_path("/system.slice/foo.service/default/redis") == CgroupContainer{});
    }
}

TEST_CASE("container_from_cgroup_path: Kubernetes") {
    const std::string uid = "12345678-1234-1234-1234-123456789abc";
    const std::string uid_ = "12345678_1234_1234_1234_123456789abc";
    SUBCASE("systemd driver, every QoS class") {
        struct Case {
            std::string path;
            PodQos qos;
        };
        for (const Case& k : {
                 Case{"/kubepods.slice/kubepods-pod" + uid_ + ".slice/cri-containerd-" + kHex + ".scope",
                      PodQos::guaranteed},
                 Case{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uid_ +
                          ".slice/cri-containerd-" + kHex + ".scope",
                      PodQos::burstable},
                 Case{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uid_ +
                          ".slice/cri-containerd-" + kHex + ".scope/nested",
                      PodQos::besteffort},
             }) {
            INFO(k.path);
            CgroupContainer c = container_from_cgroup_path(k.path);
            CHECK(c == CgroupContainer{ContainerRuntime::containerd, kHex, "k8s.io", uid, k.qos, false});
        }
    }
    SUBCASE("cgroupfs driver: the runtime is not in the path") {
        CgroupContainer c = container_from_cgroup_path("/kubepods/pod" + uid + "/" + kHex);
        CHECK(c == CgroupContainer{ContainerRuntime::none, kHex, "", uid, PodQos::guaranteed, false});
        c = container_from_cgroup_path("/kubepods/burstable/pod" + uid + "/" + kHex + "/sub");
        CHECK(c == CgroupContainer{ContainerRuntime::none, kHex, "", uid, PodQos::burstable, false});
        c = container_from_cgroup_path("/kubepods/besteffort/pod" + uid + "/crio-" + kHex);
        CHECK(c == CgroupContainer{ContainerRuntime::cri_o, kHex, "", uid, PodQos::besteffort, false});
    }
    SUBCASE("a pod cgroup without a container keeps the pod") {
        CgroupContainer c = container_from_cgroup_path("/kubepods/burstable/pod" + uid);
        CHECK(c == CgroupContainer{ContainerRuntime::none, "", "", uid, PodQos::burstable, false});
        c = container_from_cgroup_path("/kubepods/burstable/pod" + uid + "/" + kHex.substr(0, 63));
        CHECK(c == CgroupContainer{ContainerRuntime::none, "", "", uid, PodQos::burstable, false});
        c = container_from_cgroup_path("/kubepods.slice/kubepods-pod" + uid_ + ".slice");
        CHECK(c == CgroupContainer{ContainerRuntime::none, "", "", uid, PodQos::guaranteed, false});
        // A bare id is the cgroupfs layout only.
        c = container_from_cgroup_path("/kubepods.slice/kubepods-pod" + uid_ + ".slice/" + kHex);
        CHECK(c == CgroupContainer{ContainerRuntime::none, "", "", uid, PodQos::guaranteed, false});
    }
    SUBCASE("malformed pod levels are not pods") {
        for (const std::string& p : std::vector<std::string>{
                 "/kubepods/burstable/pod/" + kHex,
                 "/kubepods/burstable/podXYZ/" + kHex,
                 "/kubepods/burstable/pod" + uid + "Z/" + kHex,
                 "/kubepods/guaranteed/pod" + uid + "/" + kHex,
                 "/kubepods.slice/kubepods-burstable.slice/kubepods-besteffort-pod" + uid_ + ".slice",
                 "/kubepods.slice/kubepods-burstable-pod" + uid_ + ".slice",
                 "/kubepods.slice/kubepods-pod" + uid_ + ".scope",
                 std::string("/kubepods.slice/kubepods-pod.slice"),
                 "/other.slice/other-pod" + uid_ + ".slice",
             }) {
            INFO(p);
            CgroupContainer c = container_from_cgroup_path(p);
            CHECK(c.pod_uid.empty());
            CHECK(c.qos == PodQos::none);
            CHECK(c.id.empty());
        }
        // The container's own scope is still recognised without a pod.
        CgroupContainer c =
            container_from_cgroup_path("/kubepods.slice/kubepods-podXYZ.slice/cri-containerd-" + kHex + ".scope");
        CHECK(c == CgroupContainer{ContainerRuntime::containerd, kHex, "k8s.io", "", PodQos::none, false});
    }
    SUBCASE("a custom cgroup root") {
        CgroupContainer c = container_from_cgroup_path("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" +
                                                       uid_ + ".slice/crio-" + kHex + ".scope");
        CHECK(c == CgroupContainer{ContainerRuntime::cri_o, kHex, "", uid, PodQos::guaranteed, false});
        c = container_from_cgroup_path("/kubelet/kubepods/besteffort/pod" + uid + "/" + kHex);
        CHECK(c == CgroupContainer{ContainerRuntime::none, kHex, "", uid, PodQos::besteffort, false});
    }
}

TEST_CASE("container_from_cgroup_path: inside a user's manager, the user named the cgroup") {
    const std::string user = "/user.slice/user-1000.slice/user@1000.service";
    // Rootless Docker and Podman: real containers, unknown to the host's runtimes.
    for (const std::string& path : {user + "/user.slice/docker-" + kHex + ".scope",
                                    user + "/user.slice/libpod-" + kHex + ".scope/container",
                                    user + "/app.slice/x.scope/kubepods/besteffort/pod0c1d2e3f-1111-2222-3333-444455556666/" + kHex,
                                    user + "/app.slice/x.scope/docker/" + kHex}) {
        INFO(path);
        const CgroupContainer c = container_from_cgroup_path(path);
        CHECK(c.id == kHex);
        CHECK(c.made_by_user);
        CHECK_FALSE(c.trusted_for_host());
    }
    const CgroupContainer host = container_from_cgroup_path("/system.slice/docker-" + kHex + ".scope");
    CHECK_FALSE(host.made_by_user);
    CHECK(host.trusted_for_host());
    // A booted systemd inside a container has user managers of its own: the
    // container was recognised above them.
    const CgroupContainer booted =
        container_from_cgroup_path("/system.slice/docker-" + kHex + ".scope/user.slice/user-0.slice/user@0.service");
    CHECK(booted.id == kHex);
    CHECK(booted.trusted_for_host());
    CHECK_FALSE(container_from_cgroup_path(user + "/app.slice/app.service").made_by_user);  // no container
    CHECK_FALSE(container_from_cgroup_path("/system.slice/libpod-conmon-" + kHex + ".scope").trusted_for_host());
}

TEST_CASE("is_container_root_cgroup: the container's own cgroup, not what is nested in it") {
    const std::string docker = "/system.slice/docker-56f83fbc8deb83e0b577ebb1a9b55609651a055439537d5c66b6fe0da00fdc7f.scope";
    CHECK(is_container_root_cgroup(docker));
    CHECK_FALSE(is_container_root_cgroup(docker + "/init.scope"));  // systemd inside the container
    CHECK_FALSE(is_container_root_cgroup("/system.slice"));
    CHECK_FALSE(is_container_root_cgroup("/"));
    CHECK(is_container_root_cgroup("/docker/56f83fbc8deb83e0b577ebb1a9b55609651a055439537d5c66b6fe0da00fdc7f"));
    CHECK_FALSE(is_container_root_cgroup("/docker"));
    CHECK(is_container_root_cgroup("/default/redis-test"));  // containerd cgroupfs
    const std::string crio_pod =
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2b3c4d5e_6f7a_8b9c_0d1e_2f3a4b5c6d7e.slice";
    const std::string crio_id = "c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5";
    CHECK(is_container_root_cgroup(crio_pod + "/crio-" + crio_id + ".scope"));
    CHECK_FALSE(is_container_root_cgroup(crio_pod + "/crio-" + crio_id + ".scope/container"));
    CHECK_FALSE(is_container_root_cgroup(crio_pod + "/crio-conmon-" + crio_id + ".scope"));  // the monitor's
    CHECK_FALSE(is_container_root_cgroup(crio_pod));  // a pod is not a container
    // Kubernetes in Docker: the inner container belongs to the outer one.
    CHECK_FALSE(is_container_root_cgroup(docker + "/kubelet.slice/kubelet-kubepods.slice/cri-containerd-"
                                                  "751d7785182b961a9adea75b5b857a38cf7220ea0b5f1ff3eed2e379abb5eb9b.scope"));
}
