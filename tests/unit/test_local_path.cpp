// LocalPathResolver: realpath(3) through local file systems only, so that
// dnsvisd's event loop never waits on a network or automount lookup.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "local_path.hpp"

using dnsvis::LocalPathResolver;

namespace {

// A directory tree of the test's own, removed at the end.
struct Tree {
    std::string root;
    Tree() {
        char name[] = "/tmp/dnsvis-local-path-XXXXXX";
        REQUIRE(mkdtemp(name));
        // Canonical: /tmp itself may be a symbolic link.
        char canonical[PATH_MAX];
        REQUIRE(realpath(name, canonical));
        root = canonical;
    }
    ~Tree() { std::filesystem::remove_all(root); }
    std::string at(const std::string& relative) const { return root + "/" + relative; }
    void file(const std::string& relative) const { std::ofstream(at(relative)) << "x"; }
    void dir(const std::string& relative) const { std::filesystem::create_directories(at(relative)); }
    void link(const std::string& relative, const std::string& target) const {
        std::filesystem::create_symlink(target, at(relative));
    }
};

uint64_t inode_of(const std::string& path) {
    struct stat info {};
    REQUIRE(stat(path.c_str(), &info) == 0);
    return info.st_ino;
}

// What realpath(3) says, which the resolver must agree with where it answers.
std::string real(const std::string& path) {
    char resolved[PATH_MAX];
    REQUIRE(realpath(path.c_str(), resolved));
    return resolved;
}

// This process's mount table with `extra` lines added, in a file of the tree.
std::string table_with(const Tree& tree, const std::string& extra) {
    std::ifstream real_table("/proc/self/mountinfo");
    std::stringstream text;
    text << real_table.rdbuf() << extra;
    const std::string table = tree.at("mountinfo");
    std::ofstream(table, std::ios::trunc) << text.str();
    return table;
}

uint64_t mount_id_of(const std::string& path) {
    struct statx info {};
    REQUIRE(statx(AT_FDCWD, path.c_str(), 0, STATX_MNT_ID, &info) == 0);
    REQUIRE((info.stx_mask & STATX_MNT_ID) != 0);
    return info.stx_mnt_id;
}

}  // namespace

TEST_CASE("local path: resolves as realpath does, links absolute, relative and in the middle") {
    Tree tree;
    tree.dir("usr/bin");
    tree.file("usr/bin/python3.11");
    tree.link("usr/bin/python3", "python3.11");             // relative, same directory
    tree.link("python", tree.at("usr/bin/python3"));          // absolute, to a link
    tree.dir("opt/tool");
    tree.link("opt/tool/run", "../../usr/bin/./python3");     // "..", "." and a link at the end
    tree.link("bin", "usr/bin");                              // a directory link in the middle
    LocalPathResolver resolver;

    const std::string target = tree.at("usr/bin/python3.11");
    for (const std::string& path : {target, tree.at("usr/bin/python3"), tree.at("python"), tree.at("opt/tool/run"),
                                    tree.at("bin/python3"), tree.root + "//usr/./bin/../bin/python3"}) {
        const auto resolved = resolver.resolve(path);
        REQUIRE_MESSAGE(resolved, path);
        CHECK_MESSAGE(resolved->path == real(path), path);
        CHECK(resolved->path == target);
        CHECK(resolved->ino == inode_of(target));
    }
}

TEST_CASE("local path: no answer for what leads to no regular file") {
    Tree tree;
    tree.dir("d");
    tree.link("loop1", "loop2");
    tree.link("loop2", "loop1");
    tree.link("dangling", "nowhere");
    tree.file("f");
    LocalPathResolver resolver;
    CHECK(!resolver.resolve(tree.at("loop1")));
    CHECK(!resolver.resolve(tree.at("dangling")));
    CHECK(!resolver.resolve(tree.at("d")));          // a directory
    CHECK(!resolver.resolve(tree.at("f/")));         // a file named as a directory, as realpath says
    CHECK(!resolver.resolve(tree.at("f/x")));        // a file used as a directory
    CHECK(!resolver.resolve("/"));
    CHECK(!resolver.resolve(""));
    CHECK(!resolver.resolve("usr/bin/env"));         // relative: to nothing known
    tree.link("to-file-as-dir", "f/");
    CHECK(!resolver.resolve(tree.at("to-file-as-dir")));  // realpath: ENOTDIR
}

TEST_CASE("local path: forty links are followed, as the kernel does, and not one more") {
    Tree tree;
    tree.file("target");
    std::string previous = "target";
    for (int i = 40; i >= 0; --i) {  // link0 -> link1 -> ... -> link40 -> target
        const std::string name = "link" + std::to_string(i);
        tree.link(name, previous);
        previous = name;
    }
    LocalPathResolver resolver;
    const auto forty = resolver.resolve(tree.at("link1"));
    REQUIRE(forty);
    CHECK(forty->path == tree.at("target"));
    CHECK(!resolver.resolve(tree.at("link0")));  // 41
}

TEST_CASE("local path: nothing is looked up past a mount that is not local") {
    LocalPathResolver resolver;
    // /proc is a proc file system, not local storage: the walk stops at it
    // even though realpath(3) finds these.
    REQUIRE(access("/proc/self/status", R_OK) == 0);
    CHECK(!resolver.resolve("/proc/self/status"));
    CHECK(!resolver.resolve("/proc/self/exe"));

    // The same tree, once its mount is listed as a network file system.
    Tree tree;
    tree.file("tool");
    REQUIRE(LocalPathResolver().resolve(tree.at("tool")));
    const uint64_t mount = mount_id_of(tree.root);
    std::ifstream real_table("/proc/self/mountinfo");
    std::stringstream rewritten;
    for (std::string line; std::getline(real_table, line);) {
        if (std::stoull(line) == mount)
            line = line.substr(0, line.find(" - ")) + " - nfs4 server:/export rw";
        rewritten << line << "\n";
    }
    const std::string table = tree.at("mountinfo");
    std::ofstream(table) << rewritten.str();
    LocalPathResolver over_nfs(table);
    CHECK(!over_nfs.resolve(tree.at("tool")));
    // A mount the table does not list at all is not taken for local either.
    std::ofstream(table, std::ios::trunc) << "";
    CHECK(!LocalPathResolver(table).resolve(tree.at("tool")));
}

TEST_CASE("local path: the walk stops before a mount point of a mount that is not local") {
    // Stepping onto an NFS mount point revalidates the mount's root with
    // the server; an automount point may wait for a mount in progress. The
    // table says where they are, so the walk never takes that step: here
    // plain directories of the tree are listed as such mount points.
    Tree tree;
    tree.dir("srv/data");
    tree.file("srv/data/tool");
    tree.dir("with space");
    tree.file("with space/tool");
    tree.dir("local");
    tree.file("local/tool");
    tree.link("via-link", "srv/data/tool");
    const std::string table = table_with(
        tree, "999999 1 0:999 / " + tree.at("srv/data") + " rw - nfs4 server:/data rw\n" +
                  "999998 1 0:998 / " + tree.at("with\\040space") + " rw - autofs systemd-1 rw\n" +
                  "999997 1 0:997 / " + tree.at("local") + " rw - tmpfs tmpfs rw\n");
    LocalPathResolver resolver(table);
    CHECK(!resolver.resolve(tree.at("srv/data/tool")));
    CHECK(!resolver.resolve(tree.at("via-link")));
    CHECK(!resolver.resolve(tree.at("with space/tool")));
    CHECK(resolver.resolve(tree.at("local/tool")));  // a local mount point is stepped onto
    CHECK(resolver.resolve(tree.at("srv/../local/tool")));
}
