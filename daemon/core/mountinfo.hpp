// /proc/PID/mountinfo, read once for every use: the mounts of a mount
// namespace, and which file systems a lookup can never wait on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dnsvis {

struct Mount {
    uint64_t id = 0;          // the first field; statx's stx_mnt_id
    uint32_t kernel_dev = 0;  // MAJOR:MINOR as the kernel's dev_t (major << 20 | minor): the superblock's
    std::string mount_point;  // unescaped: mountinfo writes a space as \040
    std::string type;         // the field after " - ": "ext4", "nfs4", "fuse.sshfs"
};

// The mounts in the order the file lists them (a later mount on the same
// point is on top). Lines that do not parse are skipped.
std::vector<Mount> parse_mountinfo(std::string_view mountinfo);

// Whether looking a name up on this file system type is served from local
// storage or memory. A network or FUSE file system, or an automount point,
// can keep a lookup waiting for minutes: dnsvisd looks nothing up there from
// its event loop. Unknown types count as not local.
bool is_local_file_system(std::string_view type);

}  // namespace dnsvis
