// cgroup id (the inode of the cgroup's directory in cgroup2) to its path.
//
// The fast path asks /proc/PID/cgroup of the socket owner and checks the
// directory's inode; when that fails (the process is gone) the cgroup tree
// is walked, at most once per second. Results, including "unknown", are
// cached in a bounded table.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace dnsvis {

class CgroupResolver {
public:
    CgroupResolver(std::string cgroup_root, size_t capacity = 16384);

    // Path relative to the cgroup2 root ("/system.slice/nginx.service"),
    // or empty when unknown. `pid` may be 0.
    const std::string& path(uint64_t cgroup_id, uint32_t pid, uint64_t now_ns);

    size_t size() const { return paths_.size(); }

private:
    bool try_process(uint64_t cgroup_id, uint32_t pid);
    void walk_tree();
    void remember(uint64_t cgroup_id, std::string path);

    std::string root_;
    size_t capacity_;
    std::unordered_map<uint64_t, std::string> paths_;
    uint64_t last_walk_ns_ = 0;
    bool walked_ = false;
};

}  // namespace dnsvis
