// Who made a cgroup: root, or a user. systemd hands a delegated subtree
// (Delegate=yes with User=; every user@UID.service is one) to its user, who
// may then make and name cgroups below it at will: one named after a
// container of the host's, say. Only the directories' owners tell such a
// subtree from the host's own: a user's directory has another owner than
// the cgroup2 root (root).
#pragma once

#include <string>
#include <string_view>

namespace dnsvis {

// Whether the container cgroup at `path` ("/a/b", relative to the cgroup2
// mount `cgroup_root`) may be a user's: a directory above the outermost
// container cgroup on the path has another owner than the root, or cannot
// be read (removed: a user's subtree goes with its service, so what is
// unknown is not trusted). The container's own directory does not count:
// a runtime hands it to the container's root user when the container has a
// user namespace, and who made it is told by its parent, where making it
// needed the right to write.
bool cgroup_made_by_user(const std::string& cgroup_root, std::string_view path);

}  // namespace dnsvis
