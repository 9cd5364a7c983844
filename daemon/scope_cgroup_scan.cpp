#include "scope_cgroup_scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "dnsvis_event.h"
#include "scope_rules.hpp"

namespace dnsvis {

namespace {

// Calls `visit(name, inode, fd_of_parent)` for each subdirectory of `fd`.
// readdir's d_ino of a cgroup directory is its kernfs id, the cgroup id.
template <typename Visit>
void for_each_subdirectory(int fd, Visit&& visit) {
    const int copy = dup(fd);
    if (copy < 0)
        return;
    DIR* dir = fdopendir(copy);
    if (!dir) {
        close(copy);
        return;
    }
    while (dirent* entry = readdir(dir)) {
        if (entry->d_type != DT_DIR || std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0)
            continue;
        visit(std::string_view(entry->d_name), static_cast<uint64_t>(entry->d_ino));
    }
    closedir(dir);
}

struct UnitScan {
    const std::set<std::string>& wanted;
    std::vector<UnitCgroup>& found;
    size_t visited = 0;

    void walk(int fd, unsigned depth) {
        if (depth >= DNSVIS_SCOPE_MAX_DEPTH)
            return;  // the kernel does not look this deep
        for_each_subdirectory(fd, [&](std::string_view name, uint64_t id) {
            if (++visited > max_scanned_cgroups)
                return;
            const std::string_view unit = unit_of_cgroup_name(name);
            if (unit.empty())
                return;
            if (wanted.count(std::string(unit)))
                found.push_back({std::string(unit), id});
            if (!cgroup_holds_units(unit))
                return;
            const int child = openat(fd, std::string(name).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (child < 0)
                return;  // removed meanwhile
            walk(child, depth + 1);
            close(child);
        });
    }
};

struct ContainerScan {
    std::vector<FoundContainer>& found;
    uid_t root_owner;
    size_t visited = 0;

    // `users_below`: `fd` or a directory above it is a user's, one with
    // another owner than the root (cgroup_ownership.hpp).
    void walk(int fd, std::string& path, unsigned depth, bool users_below) {
        if (depth >= DNSVIS_SCOPE_MAX_DEPTH)
            return;
        for_each_subdirectory(fd, [&](std::string_view name, uint64_t id) {
            if (++visited > max_scanned_cgroups)
                return;
            const size_t length = path.size();
            path += '/';
            path += name;
            CgroupContainer container = container_from_cgroup_path(path);
            if (!container.id.empty()) {
                // The outermost container cgroup on a path: what is below
                // is the container's. One a user made may carry any
                // container's id (trusted_for_host()). Its own directory's
                // owner does not tell (cgroup_ownership.hpp): its parents' do.
                container.made_by_user = container.made_by_user || users_below;
                if (container.trusted_for_host())
                    found.push_back({std::move(container), id, path});
            } else if (const int child = openat(fd, std::string(name).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                       child >= 0) {
                struct stat st;
                const bool users = users_below || fstat(child, &st) != 0 || st.st_uid != root_owner;
                walk(child, path, depth + 1, users);
                close(child);
            }
            path.resize(length);
        });
    }
};

}  // namespace

std::vector<UnitCgroup> scan_unit_cgroups(const std::string& cgroup_root, const std::set<std::string>& wanted,
                                          bool* truncated) {
    std::vector<UnitCgroup> found;
    if (wanted.empty())
        return found;
    const int fd = open(cgroup_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return found;
    if (wanted.count("-.slice")) {
        struct stat st;
        if (fstat(fd, &st) == 0)
            found.push_back({"-.slice", static_cast<uint64_t>(st.st_ino)});
    }
    UnitScan scan{wanted, found};
    scan.walk(fd, 0);
    close(fd);
    if (truncated && scan.visited > max_scanned_cgroups)
        *truncated = true;
    return found;
}

std::vector<FoundContainer> scan_container_cgroups(const std::string& cgroup_root, bool* truncated) {
    std::vector<FoundContainer> found;
    const int fd = open(cgroup_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return found;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return found;
    }
    ContainerScan scan{found, st.st_uid};
    std::string path;
    scan.walk(fd, path, 0, false);
    close(fd);
    if (truncated && scan.visited > max_scanned_cgroups)
        *truncated = true;
    return found;
}

}  // namespace dnsvis
