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

// Whether the cgroup at `path` ("/a/b", relative to the cgroup2 mount
// `cgroup_root`), or one above it, has another owner than the root. A
// directory that cannot be read (the cgroup is gone) counts as the root
// owner's, as before this check: a container that exited is still named
// from its runtime's answer.
bool cgroup_made_by_user(const std::string& cgroup_root, std::string_view path);

}  // namespace dnsvis
