// cgroup_made_by_user() over a directory tree laid out like a cgroup2
// hierarchy, some of it another owner's, as a delegated subtree is.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "cgroup_ownership.hpp"

using namespace dnsvis;

namespace {

const std::string scope = "docker-4a7d2c9f1e3b5a8d0c6e2f4b7a9d1c3e5f7b9a2d4c6e8f0a1b3d5c7e9f2a4b6d.scope";

struct Tree {
    std::string root;
    Tree() {
        char name[] = "/tmp/dnsvis-owner-XXXXXX";
        REQUIRE(mkdtemp(name) != nullptr);
        root = name;
        std::filesystem::create_directories(root + "/system.slice/" + scope + "/sub");
        std::filesystem::create_directories(root + "/system.slice/delegated.service/" + scope + "/sub");
    }
    ~Tree() { std::filesystem::remove_all(root); }
    void chown_to(const std::string& path, uid_t owner) const {
        REQUIRE(chown((root + path).c_str(), owner, owner) == 0);
    }
};

}  // namespace

TEST_CASE("a container cgroup is a user's when a directory above it has another owner than the root") {
    Tree tree;
    CHECK_FALSE(cgroup_made_by_user(tree.root, "/system.slice/" + scope));
    CHECK_FALSE(cgroup_made_by_user(tree.root, "/system.slice/" + scope + "/sub"));
    CHECK_FALSE(cgroup_made_by_user(tree.root, "/system.slice/delegated.service/" + scope));
    // Removed with its parents (a user's subtree goes with its service):
    // not known to be the host's.
    CHECK(cgroup_made_by_user(tree.root, "/system.slice/gone.service/" + scope));
    // Its own directory gone, its parents there: they tell.
    CHECK(cgroup_made_by_user(tree.root, "/machine.slice/" + scope));
    std::filesystem::create_directories(tree.root + "/machine.slice");
    CHECK_FALSE(cgroup_made_by_user(tree.root, "/machine.slice/" + scope));

    if (geteuid() == 0) {
        // Delegated to user 4242: what lies below is the user's.
        tree.chown_to("/system.slice/delegated.service", 4242);
        CHECK(cgroup_made_by_user(tree.root, "/system.slice/delegated.service/" + scope));
        CHECK(cgroup_made_by_user(tree.root, "//system.slice//delegated.service/" + scope + "/sub/"));
        // A container with a user namespace: the runtime handed its own
        // directory to the container's root user, its parents stay root's.
        tree.chown_to("/system.slice/" + scope, 100000);
        tree.chown_to("/system.slice/" + scope + "/sub", 100000);
        CHECK_FALSE(cgroup_made_by_user(tree.root, "/system.slice/" + scope));
        CHECK_FALSE(cgroup_made_by_user(tree.root, "/system.slice/" + scope + "/sub"));
    } else {
        // Not root: the tree is this user's, in /tmp, which is root's.
        const std::string in_tmp = tree.root.substr(std::string("/tmp").size());
        CHECK(cgroup_made_by_user("/tmp", in_tmp + "/system.slice/" + scope));
    }
}
