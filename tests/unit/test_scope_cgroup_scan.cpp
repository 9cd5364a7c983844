// The scans over a directory tree laid out like a cgroup2 hierarchy (plain
// directories: the scans only read names and inode numbers).
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "scope_cgroup_scan.hpp"

using namespace dnsvis;

namespace {

const std::string docker_id = "4a7d2c9f1e3b5a8d0c6e2f4b7a9d1c3e5f7b9a2d4c6e8f0a1b3d5c7e9f2a4b6d";
const std::string podman_id = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d";

struct Tree {
    std::string root;

    Tree() {
        char name[] = "/tmp/dnsvis-scan-XXXXXX";
        REQUIRE(mkdtemp(name) != nullptr);
        root = name;
        for (const std::string& path : std::vector<std::string>{
                 "/init.scope",
                 "/system.slice/nginx.service/worker",
                 "/system.slice/docker-" + docker_id + ".scope/init.scope",
                 "/system.slice/machine.service/payload/system.slice/nginx.service",
                 "/system.slice/_cpu.service",
                 "/machine.slice/libpod-conmon-" + podman_id + ".scope",
                 "/machine.slice/libpod-" + podman_id + ".scope/container",
                 "/user.slice/user-1000.slice/user@1000.service/app.slice/nginx.service",
                 // A user's own cgroup named after the Docker container.
                 "/user.slice/user-1000.slice/user@1000.service/app.slice/docker-" + docker_id + ".scope",
                 "/user.slice/user-1000.slice/session-3.scope",
                 "/docker/" + podman_id + "/docker/" + docker_id,
                 "/payload/system.slice/hidden.service",
             })
            std::filesystem::create_directories(root + path);
    }
    ~Tree() { std::filesystem::remove_all(root); }

    uint64_t id(const std::string& path) const {
        struct stat st;
        REQUIRE(stat((root + path).c_str(), &st) == 0);
        return st.st_ino;
    }
};

std::vector<std::string> units(const std::vector<UnitCgroup>& found) {
    std::vector<std::string> names;
    for (const UnitCgroup& cgroup : found)
        names.push_back(cgroup.unit);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

TEST_CASE("scan_unit_cgroups: where systemd puts units, and nowhere else") {
    Tree tree;
    // nginx.service: the system one and the user one, not the one inside
    // machine.service (that is a container's systemd).
    std::vector<UnitCgroup> found = scan_unit_cgroups(tree.root, {"nginx.service"});
    CHECK(units(found) == std::vector<std::string>{"nginx.service", "nginx.service"});
    for (const UnitCgroup& cgroup : found)
        CHECK((cgroup.cgroup_id == tree.id("/system.slice/nginx.service") ||
               cgroup.cgroup_id == tree.id("/user.slice/user-1000.slice/user@1000.service/app.slice/nginx.service")));

    CHECK(units(scan_unit_cgroups(tree.root, {"user.slice", "user@1000.service", "session-3.scope", "init.scope",
                                              "cpu.service", "-.slice"})) ==
          std::vector<std::string>{"-.slice", "cpu.service", "init.scope", "session-3.scope", "user.slice",
                                   "user@1000.service"});
    CHECK(scan_unit_cgroups(tree.root, {"-.slice"}).at(0).cgroup_id == tree.id(""));
    // Inside units, below non-unit directories: not units of this host.
    CHECK(scan_unit_cgroups(tree.root, {"hidden.service", "worker", "app.slice.nope"}).empty());
    CHECK(scan_unit_cgroups(tree.root, {}).empty());
    CHECK(scan_unit_cgroups(tree.root + "/missing", {"nginx.service"}).empty());
}

TEST_CASE("scan_container_cgroups: the outermost cgroup of each container, monitors and users' cgroups left out") {
    Tree tree;
    std::vector<FoundContainer> found = scan_container_cgroups(tree.root);
    std::sort(found.begin(), found.end(),
              [](const FoundContainer& a, const FoundContainer& b) { return a.path < b.path; });
    REQUIRE(found.size() == 3);
    CHECK(found[0].path == "/docker/" + podman_id);
    CHECK(found[0].container.id == podman_id);
    CHECK(found[0].cgroup_id == tree.id("/docker/" + podman_id));
    CHECK(found[1].path == "/machine.slice/libpod-" + podman_id + ".scope");
    CHECK(found[1].container.runtime == ContainerRuntime::podman);
    CHECK(found[2].path == "/system.slice/docker-" + docker_id + ".scope");
    CHECK(found[2].container.runtime == ContainerRuntime::docker);
    CHECK(found[2].container.id == docker_id);
}

TEST_CASE("scan_container_cgroups: a cgroup in a subtree delegated to a user is the user's, whatever its name") {
    Tree tree;
    // A Delegate=yes service with User=4242: its directory is the user's,
    // and so is what the user made in it.
    const std::string delegated = "/system.slice/delegated.service";
    const std::string forged = delegated + "/docker-" + podman_id + ".scope";
    std::filesystem::create_directories(tree.root + forged);
    CHECK(scan_container_cgroups(tree.root).size() == 4);  // all of it the root owner's
    if (geteuid() != 0) {
        MESSAGE("not root: the tree cannot hold another owner's directories");
        return;
    }
    REQUIRE(chown((tree.root + delegated).c_str(), 4242, 4242) == 0);
    REQUIRE(chown((tree.root + forged).c_str(), 4242, 4242) == 0);
    for (const FoundContainer& found : scan_container_cgroups(tree.root))
        CHECK_MESSAGE(found.path != forged, "the user's cgroup named after a container was taken for it");
    CHECK(scan_container_cgroups(tree.root).size() == 3);
    // A container with a user namespace, its own directory handed to the
    // container's root user: still the host's container.
    REQUIRE(chown((tree.root + delegated).c_str(), 0, 0) == 0);
    CHECK(scan_container_cgroups(tree.root).size() == 4);
}
