// The mounts of a mount namespace, from /proc/PID/mountinfo, and which file
// systems a lookup can never wait on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dnsvis {

struct Mount {
    std::string type;         // the field after " - ": "ext4", "nfs4", "fuse.sshfs"
    std::string mount_point;  // unescaped: mountinfo writes a space as \040
};

// Mount id (mountinfo's first field, statx's stx_mnt_id) -> its mount.
// Lines that do not parse are skipped.
using MountTable = std::unordered_map<uint64_t, Mount>;
MountTable parse_mountinfo(std::string_view mountinfo);

// Whether looking a name up on this file system type is served from local
// storage or memory. A network or FUSE file system, or an automount point,
// can keep a lookup waiting for minutes: dnsvisd looks nothing up there from
// its event loop. Unknown types count as not local.
bool is_local_file_system(std::string_view type);

}  // namespace dnsvis
