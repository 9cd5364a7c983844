// Visibility scope rules as plain data, and the precedence that decides
// whether a process's DNS traffic is reported. No I/O: the daemon resolves
// the rules to cgroup ids and tgids for the kernel's maps, and the kernel
// applies the same precedence as evaluate_scope() below (test_scopes.py
// checks the kernel's side).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dnsvis {

// A process is named by its pid and the time it started (field 22 of
// /proc/PID/stat, in clock ticks since boot), so a pid reused by another
// process after a restart does not inherit the rule.
struct ProcessRule {
    uint64_t start_time = 0;
    bool enabled = false;

    bool operator==(const ProcessRule&) const = default;
};

struct ScopeRules {
    // Set by an explicit SetGlobal; unset means the configured default
    // ([Visibility] Global=), so a changed default applies after a reset.
    std::optional<bool> global;
    std::map<std::string, bool> units;          // unit name -> enabled
    std::map<std::string, bool> containers;     // full container id -> enabled
    std::map<uint32_t, ProcessRule> processes;  // pid -> rule

    // Rules besides global: whether the kernel needs to look at all.
    size_t rule_count() const { return units.size() + containers.size() + processes.size(); }
    bool operator==(const ScopeRules&) const = default;
};

// A client may make the daemon keep this many rules, no more: every rule
// costs map entries and a little work each second.
constexpr size_t max_scope_rules = 1024;

// Why `name` cannot be a unit rule, or "" when it can. Valid names are what
// systemd's unit_name_is_valid() accepts for a loadable unit: a name of
// [A-Za-z0-9:_.\-] (and '@' for an instance), a known suffix (.service,
// .scope, .slice, ...), at most 255 characters. A template ("getty@.service")
// has no cgroup and is refused; "-.slice" is the root slice.
std::string unit_rule_name_error(std::string_view name);

// Why `id` cannot be stored as a container id, or "" when it can.
std::string container_rule_id_error(std::string_view id);

// Why `pid` cannot name a process rule, or "" when it can (this much is
// known without looking at /proc).
std::string process_rule_pid_error(uint32_t pid);

// The unit a cgroup directory name stands for (systemd prefixes names that
// would clash with kernel files with '_'), or "" when it names no unit.
std::string_view unit_of_cgroup_name(std::string_view name);

// Whether unit cgroups are looked for below the cgroup of `unit`: slices
// hold units, and so does a user manager (user@UID.service). Below any other
// unit the cgroups are the unit's own or delegated (a container's systemd),
// so their names are not this host's units.
bool cgroup_holds_units(std::string_view unit);

enum class ScopeDecidedBy : uint8_t { process, container, unit, global };

struct ScopeDecision {
    bool visible = false;
    ScopeDecidedBy by = ScopeDecidedBy::global;
    std::string rule;  // the pid, container id or unit name that decided; "" for global

    bool operator==(const ScopeDecision&) const = default;
};

// Whether traffic of process `pid` (0: unknown) in cgroup `cgroup_path`
// (relative to the cgroup2 root, "" unknown) is reported. The most specific
// rule wins: the process, then its container (the outermost container in
// the path), then the deepest unit on the path, then global. A container
// cgroup a user made has no container rule; of those, only the ones in a
// user manager are known from the path, and the daemon's scan also leaves
// out those in other delegated subtrees (their directories' owners).
ScopeDecision evaluate_scope(const ScopeRules& rules, bool default_global, uint32_t pid, std::string_view cgroup_path);

}  // namespace dnsvis
