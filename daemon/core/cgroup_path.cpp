#include "cgroup_path.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "mountinfo.hpp"

namespace dnsvis {

namespace {

std::string_view next_line(std::string_view text, size_t& pos) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos)
        end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    return line;
}

// ---- unit names (systemd's unit_name_is_valid) ------------------------------

enum UnitNameFlags : unsigned {
    kUnitNamePlain = 1,     // "foo.service"
    kUnitNameInstance = 2,  // "foo@bar.service"
    kUnitNameTemplate = 4,  // "foo@.service"
};

constexpr size_t kUnitNameMax = 256;

constexpr std::string_view kUnitTypes[] = {
    "service", "mount", "swap", "socket", "target", "device", "automount", "timer", "path", "slice", "scope",
};

bool is_unit_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '-' ||
           c == '_' || c == '.' || c == '\\';
}

bool unit_name_is_valid(std::string_view name, unsigned flags) {
    if (name.empty() || name.size() >= kUnitNameMax)
        return false;
    size_t dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0)
        return false;
    std::string_view type = name.substr(dot + 1);
    if (std::find(std::begin(kUnitTypes), std::end(kUnitTypes), type) == std::end(kUnitTypes))
        return false;

    // Only the first '@' separates the instance; later ones are ordinary
    // characters of the instance string, as systemd has it.
    size_t at = std::string_view::npos;
    for (size_t i = 0; i < dot; ++i) {
        char c = name[i];
        if (c == '@') {
            if (at == std::string_view::npos)
                at = i;
            continue;
        }
        if (!is_unit_name_char(c))
            return false;
    }
    if (at == 0)
        return false;
    if ((flags & kUnitNamePlain) && at == std::string_view::npos)
        return true;
    if ((flags & kUnitNameInstance) && at != std::string_view::npos && dot > at + 1)
        return true;
    if ((flags & kUnitNameTemplate) && at != std::string_view::npos && dot == at + 1)
        return true;
    return false;
}

// ---- cgroup paths (systemd's cg_path_get_unit and friends) ------------------

// systemd prefixes a unit's cgroup name with '_' when it would clash with a
// kernel attribute file ("_cpu.service", "_tasks.service"); a name that
// itself starts with '_' is escaped the same way, so one strip is exact.
std::string_view cg_unescape(std::string_view component) {
    if (!component.empty() && component.front() == '_')
        component.remove_prefix(1);
    return component;
}

void skip_slashes(std::string_view& p) {
    while (!p.empty() && p.front() == '/')
        p.remove_prefix(1);
}

std::string_view first_component(std::string_view p) {
    return p.substr(0, p.find('/'));
}

bool is_slice_component(std::string_view component) {
    return component.ends_with(".slice") && unit_name_is_valid(cg_unescape(component), kUnitNamePlain);
}

// Returns the path from the first component that is not a slice, and the
// innermost slice passed on the way (unescaped; empty if none).
std::string_view skip_slices(std::string_view p, std::string_view& innermost_slice) {
    innermost_slice = {};
    for (;;) {
        skip_slashes(p);
        std::string_view component = first_component(p);
        if (!is_slice_component(component))
            return p;
        innermost_slice = cg_unescape(component);
        p.remove_prefix(component.size());
    }
}

// The unit the first component of `p` names, or empty. Templates cannot run
// and slices were skipped before, so neither counts.
std::string_view decode_unit(std::string_view p) {
    std::string_view component = first_component(p);
    if (component.size() < 3)
        return {};
    std::string_view name = cg_unescape(component);
    if (!unit_name_is_valid(name, kUnitNamePlain | kUnitNameInstance) || name.ends_with(".slice"))
        return {};
    return name;
}

// systemd's parse_uid: a decimal uid_t, excluding the two values that mean
// "invalid" (-1 and the 16-bit -1).
bool is_valid_uid(std::string_view text) {
    if (text.empty() || text.size() > 10)
        return false;
    uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v < 0xffffffffu && v != 0xffffu;
}

bool is_valid_session_id(std::string_view id) {
    return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    });
}

// Like systemd's skip_user_prefix: the user's units live below the user
// manager (user@UID.service) and, for historical reasons, systemd also
// accepts them below a login session scope (session-ID.scope). Returns false
// if `p` (already past the slices) starts with neither.
bool skip_user_prefix(std::string_view p, std::string_view& rest) {
    skip_slashes(p);
    std::string_view component = first_component(p);
    // User managers and sessions are never '_'-escaped: their names cannot
    // clash with kernel files.
    bool matched = false;
    if (is_user_manager_unit(component)) {
        matched = true;
    } else if (component.starts_with("session-") && component.ends_with(".scope")) {
        matched = component.size() > 8 + 6 && is_valid_session_id(component.substr(8, component.size() - 8 - 6));
    }
    if (!matched)
        return false;
    p.remove_prefix(component.size());
    skip_slashes(p);
    rest = p;
    return true;
}

}  // namespace

std::optional<std::string> find_cgroup2_mount(std::string_view mountinfo) {
    for (Mount& mount : parse_mountinfo(mountinfo)) {
        if (mount.type == "cgroup2")
            return std::move(mount.mount_point);
    }
    return std::nullopt;
}

std::optional<std::string> cgroup2_path_from_proc(std::string_view proc_pid_cgroup) {
    // A process whose cgroup was removed while it was being read shows the
    // old path with this suffix; the path is still the best we know.
    constexpr std::string_view kDeleted = " (deleted)";
    size_t pos = 0;
    while (pos < proc_pid_cgroup.size()) {
        std::string_view line = next_line(proc_pid_cgroup, pos);
        if (!line.starts_with("0::"))
            continue;
        std::string_view path = line.substr(3);
        if (path.ends_with(kDeleted))
            path.remove_suffix(kDeleted.size());
        if (path.empty())
            return std::nullopt;
        return std::string(path);
    }
    return std::nullopt;
}

CgroupUnits units_from_cgroup_path(std::string_view path) {
    CgroupUnits units;
    std::string_view slice;
    std::string_view rest = skip_slices(path, slice);
    units.slice = std::string(slice);
    units.unit = std::string(decode_unit(rest));
    if (units.unit.empty())
        return units;

    std::string_view user_rest;
    if (skip_user_prefix(rest, user_rest)) {
        std::string_view user_slice;
        units.user_unit = std::string(decode_unit(skip_slices(user_rest, user_slice)));
    }
    return units;
}

bool is_valid_unit_name(std::string_view name) {
    return unit_name_is_valid(name, kUnitNamePlain | kUnitNameInstance | kUnitNameTemplate);
}

bool is_user_manager_unit(std::string_view name) {
    return name.starts_with("user@") && name.ends_with(".service") && name.size() > 5 + 8 &&
           is_valid_uid(name.substr(5, name.size() - 5 - 8));
}

}  // namespace dnsvis
