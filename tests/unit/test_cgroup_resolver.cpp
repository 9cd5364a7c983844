// The cgroup resolver against a directory tree of its own: inotify reports
// mkdir and rmdir on any file system the way it does on cgroup2, so the
// mirror, the grace period and the forget callback are tested without
// privileges. (The real cgroup tree is exercised by tests/integration.)
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "cgroup_resolver.hpp"

using namespace dnsvis;

namespace {

struct Tree {
    std::string root;
    Tree() {
        char name[] = "/tmp/dnsvis-cgroup-resolver-XXXXXX";
        root = mkdtemp(name);
    }
    ~Tree() { std::filesystem::remove_all(root); }
    uint64_t make(const std::string& relative) {
        REQUIRE(mkdir((root + relative).c_str(), 0755) == 0);
        struct stat st;
        REQUIRE(stat((root + relative).c_str(), &st) == 0);
        return st.st_ino;
    }
    void remove(const std::string& relative) { REQUIRE(rmdir((root + relative).c_str()) == 0); }
};

struct Loop {
    sd_event* event = nullptr;
    Loop() { REQUIRE(sd_event_new(&event) >= 0); }
    ~Loop() { sd_event_unref(event); }
    // Runs what is ready now, a few rounds (inotify, then the purge timer).
    void settle() {
        for (int i = 0; i < 5; ++i)
            sd_event_run(event, 1000);
    }
};

}  // namespace

TEST_CASE("the mirror knows cgroups from their creation, also those that are gone before the lookup") {
    Tree tree;
    const uint64_t old_id = tree.make("/system.slice");
    Loop loop;
    CgroupResolver resolver(tree.root);
    std::vector<std::pair<uint64_t, std::string>> forgotten;
    REQUIRE(resolver.watch(loop.event, 3'600'000'000'000,
                           [&](uint64_t id, const std::string& path) { forgotten.emplace_back(id, path); }));
    std::vector<std::pair<uint64_t, std::string>> created;
    resolver.on_created([&](uint64_t id, const std::string& path) { created.emplace_back(id, path); });
    CHECK(resolver.path(old_id, 0, 0) == "/system.slice");  // from the initial walk

    const uint64_t docker = tree.make("/system.slice/docker-abc.scope");
    const uint64_t nested = tree.make("/system.slice/docker-abc.scope/init.scope");
    loop.settle();
    CHECK(resolver.path(docker, 0, 0) == "/system.slice/docker-abc.scope");
    CHECK(resolver.path(nested, 0, 0) == "/system.slice/docker-abc.scope/init.scope");
    // New cgroups are announced from the loop (the initial ones are not).
    REQUIRE(created.size() == 2);
    CHECK(created[0] == std::make_pair(docker, std::string("/system.slice/docker-abc.scope")));
    CHECK(created[1] == std::make_pair(nested, std::string("/system.slice/docker-abc.scope/init.scope")));

    // Looked up before the loop has read its creation: the queued events are
    // read on the lookup's miss.
    const uint64_t quick = tree.make("/system.slice/quick.scope");
    CHECK(resolver.path(quick, 0, 0) == "/system.slice/quick.scope");
    CHECK(created.size() == 2);  // not announced from within path()
    loop.settle();
    REQUIRE(created.size() == 3);  // but from the loop's next turn
    CHECK(created[2] == std::make_pair(quick, std::string("/system.slice/quick.scope")));
    // Removed before the lookup of a query it sent: kept for the grace period.
    tree.remove("/system.slice/quick.scope");
    loop.settle();
    CHECK(resolver.path(quick, 0, 0) == "/system.slice/quick.scope");

    tree.remove("/system.slice/docker-abc.scope/init.scope");
    tree.remove("/system.slice/docker-abc.scope");
    loop.settle();
    CHECK(resolver.path(docker, 0, 0) == "/system.slice/docker-abc.scope");  // still in its grace period
    CHECK(forgotten.empty());
    CHECK(resolver.path(12345678, 0, 0).empty());  // never existed
}

TEST_CASE("a removed cgroup is forgotten after the grace period, and the caller told") {
    Tree tree;
    Loop loop;
    CgroupResolver resolver(tree.root);
    std::vector<std::pair<uint64_t, std::string>> forgotten;
    REQUIRE(
        resolver.watch(loop.event, 0, [&](uint64_t id, const std::string& path) { forgotten.emplace_back(id, path); }));
    const uint64_t id = tree.make("/docker");
    const uint64_t container = tree.make("/docker/4b2d");
    loop.settle();
    const size_t mirrored = resolver.size();
    CHECK(resolver.path(container, 0, 0) == "/docker/4b2d");

    tree.remove("/docker/4b2d");
    loop.settle();
    REQUIRE(forgotten.size() == 1);
    CHECK(forgotten[0] == std::make_pair(container, std::string("/docker/4b2d")));
    CHECK(resolver.size() == mirrored - 1);
    CHECK(resolver.path(container, 0, 0).empty());
    CHECK(resolver.path(id, 0, 0) == "/docker");

    // The same name again is followed again (cgroup2 gives it a new id; a
    // test file system may reuse the inode, which must work as well).
    const uint64_t again = tree.make("/docker/4b2d");
    loop.settle();
    CHECK(resolver.path(again, 0, 0) == "/docker/4b2d");
}

TEST_CASE("the mirror is bounded; what does not fit is found by walking the tree") {
    Tree tree;
    Loop loop;
    // The root and five more are mirrored, the other three are walked for.
    CgroupResolver resolver(tree.root, /*capacity=*/6);
    REQUIRE(resolver.watch(loop.event, 0, nullptr));
    std::vector<uint64_t> ids;
    for (int i = 0; i < 8; ++i)
        ids.push_back(tree.make("/c" + std::to_string(i)));
    loop.settle();
    for (int i = 0; i < 8; ++i)
        CHECK(resolver.path(ids[i], 0, 1'000'000'000ull * (i + 1)) == "/c" + std::to_string(i));
    CHECK(resolver.size() == 9);  // 6 mirrored, 3 in the fallback cache (bounded by the same capacity)
}
