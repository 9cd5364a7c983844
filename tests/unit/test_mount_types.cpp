// parse_mount_types and is_local_file_system: which mounts a path lookup
// from dnsvisd's event loop may pass through.
#include <doctest/doctest.h>

#include "mount_types.hpp"

using dnsvis::is_local_file_system;
using dnsvis::parse_mount_types;

TEST_CASE("mount types: each mount id with the type after the separator, optional fields or not") {
    const auto types = parse_mount_types(
        "24 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"
        "25 24 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
        "31 24 0:27 / /home rw,relatime shared:15 master:3 - autofs systemd-1 rw,fd=40,pgrp=1\n"
        "97 31 0:51 / /home/alice rw,relatime - nfs4 server:/export/alice rw,vers=4.2\n"
        "98 24 0:52 / /mnt/with\\040space rw - fuse.sshfs user@host: rw\n"
        "not a mountinfo line\n"
        "99 24 0:53 / /broken rw no separator here\n"
        "100 24 0:54 / /last rw - tmpfs tmpfs rw");  // no final newline
    CHECK(types.size() == 6);
    CHECK(types.at(24) == "ext4");
    CHECK(types.at(25) == "proc");
    CHECK(types.at(31) == "autofs");
    CHECK(types.at(97) == "nfs4");
    CHECK(types.at(98) == "fuse.sshfs");
    CHECK(types.at(100) == "tmpfs");
    CHECK(!types.contains(99));
}

TEST_CASE("mount types: nothing from an empty table") {
    CHECK(parse_mount_types("").empty());
    CHECK(parse_mount_types("\n\n").empty());
}

TEST_CASE("mount types: disks, images and memory are local; networks, FUSE and automounts are not") {
    for (const char* local : {"ext4", "xfs", "btrfs", "tmpfs", "overlay", "squashfs", "erofs", "zfs"})
        CHECK_MESSAGE(is_local_file_system(local), local);
    for (const char* remote : {"nfs", "nfs4", "cifs", "smb3", "ceph", "fuse", "fuse.sshfs", "autofs", "9p",
                               "virtiofs", "proc", "sysfs", "", "ext"})
        CHECK_MESSAGE(!is_local_file_system(remote), remote);
}
