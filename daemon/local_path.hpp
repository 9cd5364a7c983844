// Resolves an absolute path as realpath(3) would, symbolic links followed,
// but looks names up only in directories on local file systems
// (is_local_file_system), so that it never waits: the event loop calls it.
//
// realpath(3) looks every component up wherever it lies: a shebang naming
// /home/alice/bin/python, with /home an NFS share behind an automounter,
// would hold dnsvisd until the server answers even if the link led to
// /usr/bin/python3.11 on the local disk. Here the walk stops before a
// component that is the mount point of a mount that is not local: stepping
// into one may already ask its server (NFS revalidates the root it crosses
// into) or wait for an automount in progress. The table of mounts is read
// again whenever the kernel says it changed (POLLPRI on mountinfo). Each
// component is opened with O_PATH | O_NOFOLLOW, which triggers no
// automount, and its mount read back with statx(AT_STATX_DONT_SYNC) is
// checked too, for a mount that came after the table was read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "mountinfo.hpp"

namespace dnsvis {

struct ResolvedPath {
    std::string path;  // absolute, no symbolic link, no "." or ".."
    uint64_t ino = 0;  // of the file it names
};

class LocalPathResolver {
public:
    // `mountinfo_path` lists the mounts the walk sees: this process's own.
    explicit LocalPathResolver(std::string mountinfo_path = "/proc/self/mountinfo");
    ~LocalPathResolver();
    LocalPathResolver(const LocalPathResolver&) = delete;
    LocalPathResolver& operator=(const LocalPathResolver&) = delete;

    // The regular file `path` leads to, or nothing when the path is not
    // absolute, leads nowhere, loops, passes through a mount that is not
    // local, or names something else than a regular file.
    std::optional<ResolvedPath> resolve(std::string_view path);

private:
    // Reads the table of mounts again if the kernel reports a change since
    // the last read (or it was never read).
    void refresh();
    void read_table();
    // Whether the mount with this id is local; the table is read again for
    // an id it does not know (mounted since).
    bool mount_is_local(uint64_t mount_id);

    std::string mountinfo_path_;
    int mountinfo_fd_ = -1;  // kept open: polling it tells of changes
    bool read_once_ = false;
    std::unordered_map<uint64_t, bool> mount_is_local_;  // by mount id
    std::unordered_set<std::string> foreign_mount_points_;  // of mounts that are not local
};

}  // namespace dnsvis
