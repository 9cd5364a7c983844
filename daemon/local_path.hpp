// Resolves an absolute path as realpath(3) would, symbolic links followed,
// but looks names up only in directories on local file systems
// (is_local_file_system), so that it never waits: the event loop calls it.
//
// realpath(3) looks every component up wherever it lies: a shebang naming
// /home/alice/bin/python, with /home an NFS share behind an automounter,
// would hold dnsvisd until the server answers even if the link led to
// /usr/bin/python3.11 on the local disk. Here each component is opened with
// O_PATH | O_NOFOLLOW, which triggers no automount, and its mount is read
// with statx(AT_STATX_DONT_SYNC), which asks no server; a component on a
// mount of another kind ends the walk before anything is looked up in it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mount_types.hpp"

namespace dnsvis {

struct ResolvedPath {
    std::string path;  // absolute, no symbolic link, no "." or ".."
    uint64_t ino = 0;  // of the file it names
};

class LocalPathResolver {
public:
    // `mountinfo_path` lists the mounts the walk sees: this process's own.
    explicit LocalPathResolver(std::string mountinfo_path = "/proc/self/mountinfo");

    // The regular file `path` leads to, or nothing when the path is not
    // absolute, leads nowhere, loops, passes through a mount that is not
    // local, or names something else than a regular file.
    std::optional<ResolvedPath> resolve(std::string_view path);

private:
    // Whether the mount with this id is local; the table is read again for
    // an id it does not know (mounted since).
    bool mount_is_local(uint64_t mount_id);

    std::string mountinfo_path_;
    MountTypes mounts_;
};

}  // namespace dnsvis
