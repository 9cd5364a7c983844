#include "exec_record.hpp"

#include <linux/magic.h>

#include <cstring>

namespace dnsvis {

std::string_view exe_from_exec_record(const dnsvis_exec_record& record, uint64_t seen_ns,
                                      std::string_view owner_comm) {
    if (record.since_ns > seen_ns)
        return {};
    const std::string_view comm(record.comm, strnlen(record.comm, sizeof record.comm));
    if (comm != owner_comm)
        return {};
    // path_len counts the NUL; a full buffer may have been cut short.
    if (record.path_len < 2 || record.path_len >= sizeof record.path)
        return {};
    const std::string_view path(record.path, strnlen(record.path, record.path_len));
    if (path.size() + 1 != record.path_len || path.front() != '/')
        return {};
    // A re-exec of /proc/self/exe, or an fexecve() of a descriptor
    // (/dev/fd/N): names that meant something only to the process itself.
    if (path.starts_with("/proc/") || path.starts_with("/dev/fd/"))
        return {};
    return path;
}

bool exe_path_may_be_looked_up(uint64_t file_fs_magic) {
    // Where executables live on local disks, in images and in memory. An
    // unknown file system is left alone: the path as the exec named it is
    // still reported, only not resolved.
    constexpr uint64_t zfs_super_magic = 0x2fc12fc1;  // not in linux/magic.h: out of tree
    switch (file_fs_magic) {
    case EXT4_SUPER_MAGIC:  // ext2 and ext3 share it
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case F2FS_SUPER_MAGIC:
    case zfs_super_magic:
    case TMPFS_MAGIC:
    case RAMFS_MAGIC:
    case OVERLAYFS_SUPER_MAGIC:  // container images, over local layers
    case SQUASHFS_MAGIC:         // snaps, live systems
    case EROFS_SUPER_MAGIC_V1:
    case MSDOS_SUPER_MAGIC:
        return true;
    default:
        return false;
    }
}

}  // namespace dnsvis
