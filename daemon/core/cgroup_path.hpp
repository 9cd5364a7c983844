// Pure functions over cgroup paths and the proc files that name them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dnsvis {

// The mount point of the cgroup2 ("unified") hierarchy, from the text of
// /proc/self/mountinfo. Mount points in mountinfo escape space, tab, newline
// and backslash as octal (\040); they are unescaped here.
std::optional<std::string> find_cgroup2_mount(std::string_view mountinfo);

// The cgroup2 path of a process ("/system.slice/nginx.service"), from the
// text of /proc/PID/cgroup: the "0::" line.
std::optional<std::string> cgroup2_path_from_proc(std::string_view proc_pid_cgroup);

// The systemd units a cgroup path belongs to, as systemd itself works them
// out: slices are skipped, the first unit below them is the system unit; under
// user@UID.service the first unit below that is the user unit.
struct CgroupUnits {
    std::string unit;       // "nginx.service", "session-3.scope", "user@1000.service"
    std::string user_unit;  // "app-foo.service" under user@1000.service
    std::string slice;      // the innermost slice above the unit ("system.slice")
};
CgroupUnits units_from_cgroup_path(std::string_view path);

// A user's service manager, "user@UID.service": its cgroup and everything
// below are delegated to that user, who may create and name cgroups there.
bool is_user_manager_unit(std::string_view name);

// True for a syntactically valid unit name with a known suffix
// ("foo.service", "a-b.slice", "getty@tty1.service").
bool is_valid_unit_name(std::string_view name);

}  // namespace dnsvis
