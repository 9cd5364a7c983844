// Finds the cgroups that scope rules name, in the cgroup2 tree: the
// cgroups of units by name, and the cgroups of containers. A cgroup's id is
// its directory's inode number, which is what the kernel's
// bpf_skb_ancestor_cgroup_id() returns.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "container_cgroup.hpp"

namespace dnsvis {

// Directories visited per scan, at most: a bound on the work one tick does
// on a host with a huge cgroup tree.
constexpr size_t max_scanned_cgroups = 65536;

struct UnitCgroup {
    std::string unit;
    uint64_t cgroup_id = 0;
};

// The cgroups of the units in `wanted`. Units are looked for where systemd
// puts them: in the root, in slices, and in user managers
// (user.slice/user-1000.slice/user@1000.service/app.slice/foo.service); not
// inside other units, whose sub-cgroups are their own (or a container's
// systemd's). A unit name may match more than one cgroup (the same user
// unit in two user managers): each is returned. "-.slice" is the root.
// `truncated` (if given) is set when the scan stopped at max_scanned_cgroups.
std::vector<UnitCgroup> scan_unit_cgroups(const std::string& cgroup_root, const std::set<std::string>& wanted,
                                          bool* truncated = nullptr);

struct FoundContainer {
    CgroupContainer container;
    uint64_t cgroup_id = 0;
    std::string path;  // relative to the cgroup2 root
};

// Every container's cgroup: the outermost cgroup of each container in the
// tree (its sub-cgroups belong to it). Monitor (conmon) cgroups are left
// out: they are not the container.
std::vector<FoundContainer> scan_container_cgroups(const std::string& cgroup_root, bool* truncated = nullptr);

}  // namespace dnsvis
