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

TEST_CASE("a cgroup is a user's when it or a directory above it has another owner than the root") {
    char name[] = "/tmp/dnsvis-owner-XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    const std::string root = name;
    std::filesystem::create_directories(root + "/system.slice/docker-1234.scope/sub");
    std::filesystem::create_directories(root + "/system.slice/delegated.service/docker-1234.scope/sub");

    CHECK_FALSE(cgroup_made_by_user(root, "/system.slice/docker-1234.scope"));
    CHECK_FALSE(cgroup_made_by_user(root, "/system.slice/docker-1234.scope/sub"));
    CHECK_FALSE(cgroup_made_by_user(root, "/"));
    CHECK_FALSE(cgroup_made_by_user(root, ""));
    CHECK_FALSE(cgroup_made_by_user(root, "/system.slice/gone.scope"));  // unreadable: the root owner's
    if (geteuid() == 0) {
        // Delegated to user 4242, root's own directories stay root's.
        REQUIRE(chown((root + "/system.slice/delegated.service").c_str(), 4242, 4242) == 0);
        CHECK(cgroup_made_by_user(root, "/system.slice/delegated.service"));
        CHECK(cgroup_made_by_user(root, "/system.slice/delegated.service/docker-1234.scope"));
        CHECK(cgroup_made_by_user(root, "//system.slice//delegated.service/docker-1234.scope/sub/"));
        CHECK_FALSE(cgroup_made_by_user(root, "/system.slice/docker-1234.scope/sub"));
    } else {
        MESSAGE("not root: the tree cannot hold another owner's directories");
    }
    std::filesystem::remove_all(root);
}
