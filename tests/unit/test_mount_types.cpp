// parse_mount_types and is_local_file_system: which mounts a path lookup
// from dnsvisd's event loop may pass through.
#include <doctest/doctest.h>

#include "mount_types.hpp"

using dnsvis::is_local_file_system;
using dnsvis::parse_mountinfo;

TEST_CASE("mount types: each mount id with its type and mount point, optional fields or not") {
    const auto mounts = parse_mountinfo(
        "24 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"
        "25 24 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
        "31 24 0:27 / /home rw,relatime shared:15 master:3 - autofs systemd-1 rw,fd=40,pgrp=1\n"
        "97 31 0:51 / /home/alice rw,relatime - nfs4 server:/export/alice rw,vers=4.2\n"
        "98 24 0:52 / /mnt/with\\040space rw - fuse.sshfs user@host: rw\n"
        "not a mountinfo line\n"
        "99 24 0:53 / /broken rw no separator here\n"
        "100 24 0:54 / /last rw - tmpfs tmpfs rw");  // no final newline
    CHECK(mounts.size() == 6);
    CHECK(mounts.at(24).type == "ext4");
    CHECK(mounts.at(24).mount_point == "/");
    CHECK(mounts.at(25).type == "proc");
    CHECK(mounts.at(31).type == "autofs");
    CHECK(mounts.at(31).mount_point == "/home");
    CHECK(mounts.at(97).type == "nfs4");
    CHECK(mounts.at(97).mount_point == "/home/alice");
    CHECK(mounts.at(98).type == "fuse.sshfs");
    CHECK(mounts.at(98).mount_point == "/mnt/with space");  // \040 unescaped
    CHECK(mounts.at(100).type == "tmpfs");
    CHECK(!mounts.contains(99));
}

TEST_CASE("mount types: nothing from an empty table") {
    CHECK(parse_mountinfo("").empty());
    CHECK(parse_mountinfo("\n\n").empty());
    CHECK(parse_mountinfo("7").empty());  // an id and nothing else
}

TEST_CASE("mount types: escapes in mount points, and backslashes that are not escapes") {
    const auto mounts = parse_mountinfo("5 1 0:1 / /a\\011tab\\012nl\\134back\\9x\\04 rw - tmpfs tmpfs rw\n");
    REQUIRE(mounts.contains(5));
    CHECK(mounts.at(5).mount_point == "/a\ttab\nnl\\back\\9x\\04");
}

TEST_CASE("mount types: disks, images and memory are local; networks, FUSE and automounts are not") {
    for (const char* local : {"ext4", "xfs", "btrfs", "tmpfs", "overlay", "squashfs", "erofs", "zfs"})
        CHECK_MESSAGE(is_local_file_system(local), local);
    for (const char* remote : {"nfs", "nfs4", "cifs", "smb3", "ceph", "fuse", "fuse.sshfs", "autofs", "9p",
                               "virtiofs", "proc", "sysfs", "", "ext"})
        CHECK_MESSAGE(!is_local_file_system(remote), remote);
}
