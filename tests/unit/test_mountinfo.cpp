// parse_mountinfo, and is_local_file_system: which mounts a path lookup
// from dnsvisd's event loop may pass through.
#include <doctest/doctest.h>

#include "mountinfo.hpp"

using dnsvis::is_local_file_system;
using dnsvis::parse_mountinfo;

TEST_CASE("mountinfo: each mount with its id, device, mount point and type, optional fields or not") {
    const auto mounts = parse_mountinfo(
        "24 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"
        "25 24 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
        "31 24 0:27 / /home rw,relatime shared:15 master:3 - autofs systemd-1 rw,fd=40,pgrp=1\n"
        "97 31 0:51 / /home/alice rw,relatime - nfs4 server:/export/alice rw,vers=4.2\n"
        "98 24 0:52 / /mnt/with\\040space rw - fuse.sshfs user@host: rw\n"
        "not a mountinfo line\n"
        "99 24 0:53 / /broken rw no separator here\n"
        "100 24 0:54 / /last rw - tmpfs tmpfs rw");  // no final newline
    // In file order; the broken lines are skipped.
    REQUIRE(mounts.size() == 6);
    const uint64_t ids[] = {24, 25, 31, 97, 98, 100};
    const char* types[] = {"ext4", "proc", "autofs", "nfs4", "fuse.sshfs", "tmpfs"};
    const char* points[] = {"/", "/proc", "/home", "/home/alice", "/mnt/with space", "/last"};  // \040 unescaped
    for (size_t i = 0; i < mounts.size(); ++i) {
        CHECK(mounts[i].id == ids[i]);
        CHECK(mounts[i].type == types[i]);
        CHECK(mounts[i].mount_point == points[i]);
    }
    // MAJOR:MINOR as the kernel's dev_t.
    CHECK(mounts[0].kernel_dev == ((259u << 20) | 2));
    CHECK(mounts[5].kernel_dev == 54u);
}

TEST_CASE("mountinfo: nothing from an empty table") {
    CHECK(parse_mountinfo("").empty());
    CHECK(parse_mountinfo("\n\n").empty());
    CHECK(parse_mountinfo("7").empty());  // an id and nothing else
    CHECK(parse_mountinfo("5 1 0x1 / /a rw - tmpfs tmpfs rw\n").empty());  // no MAJOR:MINOR
}

TEST_CASE("mountinfo: escapes in mount points, and backslashes that are not escapes") {
    const auto mounts = parse_mountinfo("5 1 0:1 / /a\\011tab\\012nl\\134back\\9x\\04 rw - tmpfs tmpfs rw\n");
    REQUIRE(mounts.size() == 1);
    CHECK(mounts[0].mount_point == "/a\ttab\nnl\\back\\9x\\04");
}

TEST_CASE("mountinfo: disks, images and memory are local; networks, FUSE and automounts are not") {
    for (const char* local : {"ext4", "xfs", "btrfs", "tmpfs", "overlay", "squashfs", "erofs", "zfs"})
        CHECK_MESSAGE(is_local_file_system(local), local);
    for (const char* remote : {"nfs", "nfs4", "cifs", "smb3", "ceph", "fuse", "fuse.sshfs", "autofs", "9p",
                               "virtiofs", "proc", "sysfs", "", "ext"})
        CHECK_MESSAGE(!is_local_file_system(remote), remote);
}
