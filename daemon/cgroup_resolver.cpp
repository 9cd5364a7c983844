#include "cgroup_resolver.hpp"

#include <fcntl.h>
#include <fts.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "cgroup_path.hpp"
#include "text_file.hpp"

namespace dnsvis {

namespace {

constexpr uint64_t walk_interval_ns = 1'000'000'000;

}  // namespace

CgroupResolver::CgroupResolver(std::string cgroup_root, size_t capacity)
    : root_(std::move(cgroup_root)), capacity_(capacity) {}

void CgroupResolver::remember(uint64_t cgroup_id, std::string path) {
    if (paths_.size() >= capacity_)
        paths_.clear();  // cgroups churn slowly; refilling is cheap and bounded
    paths_[cgroup_id] = std::move(path);
}

bool CgroupResolver::try_process(uint64_t cgroup_id, uint32_t pid) {
    if (pid == 0)
        return false;
    auto path = cgroup2_path_from_proc(read_text_file("/proc/" + std::to_string(pid) + "/cgroup"));
    if (!path)
        return false;
    struct stat st;
    if (stat((root_ + *path).c_str(), &st) < 0 || st.st_ino != cgroup_id)
        return false;  // the process moved since it sent, or the cgroup is gone
    remember(cgroup_id, std::move(*path));
    return true;
}

void CgroupResolver::walk_tree() {
    char* roots[] = {root_.data(), nullptr};
    FTS* fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, nullptr);
    if (!fts)
        return;
    while (FTSENT* entry = fts_read(fts)) {
        if (entry->fts_info != FTS_D)
            continue;
        std::string relative(entry->fts_path + root_.size());
        if (relative.empty())
            relative = "/";
        remember(entry->fts_statp->st_ino, std::move(relative));
    }
    fts_close(fts);
}

const std::string& CgroupResolver::path(uint64_t cgroup_id, uint32_t pid, uint64_t now_ns) {
    static const std::string unknown;
    if (cgroup_id == 0)
        return unknown;
    if (auto it = paths_.find(cgroup_id); it != paths_.end())
        return it->second;
    if (try_process(cgroup_id, pid))
        return paths_[cgroup_id];
    if (!walked_ || now_ns - last_walk_ns_ >= walk_interval_ns) {
        walked_ = true;
        last_walk_ns_ = now_ns;
        walk_tree();
        if (auto it = paths_.find(cgroup_id); it != paths_.end())
            return it->second;
    }
    return unknown;
}

}  // namespace dnsvis
