#include "scope_rules.hpp"

#include "cgroup_path.hpp"
#include "container_cgroup.hpp"

namespace dnsvis {

namespace {

// "foo@.service": an '@' right before the suffix.
bool is_template(std::string_view name) {
    const size_t dot = name.rfind('.');
    return dot != std::string_view::npos && dot > 0 && name[dot - 1] == '@';
}

}  // namespace

std::string unit_rule_name_error(std::string_view name) {
    if (name.empty())
        return "the unit name is empty";
    if (name.size() > 255)
        return "the unit name is longer than 255 characters";
    if (!is_valid_unit_name(name))
        return "\"" + std::string(name) +
               "\" is not a valid unit name (a name of letters, digits and \":-_.\\\", an optional @instance, and a "
               "suffix such as .service, .scope or .slice)";
    if (is_template(name))
        return "\"" + std::string(name) + "\" is a template, which has no cgroup; name an instance of it";
    return {};
}

std::string container_rule_id_error(std::string_view id) {
    if (id.empty())
        return "the container id is empty";
    if (id.size() > 255)
        return "the container id is longer than 255 characters";
    // A name as `docker inspect` prints it ("/web") is taken
    // (match_container drops the '/'); a slash anywhere else is not.
    if (id.front() == '/')
        id.remove_prefix(1);
    if (id.empty())
        return "the container name is empty";
    for (char c : id) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (c == '/' || u < 0x20 || u == 0x7f)
            return "the container id or name contains '/' (but for a name's leading one) or a control character";
    }
    return {};
}

std::string process_rule_pid_error(uint32_t pid) {
    return pid == 0 ? "pid 0 names no process" : "";
}

std::string_view unit_of_cgroup_name(std::string_view name) {
    if (!name.empty() && name.front() == '_')
        name.remove_prefix(1);
    if (!is_valid_unit_name(name) || is_template(name))
        return {};
    return name;
}

bool cgroup_holds_units(std::string_view unit) {
    return unit.ends_with(".slice") || is_user_manager_unit(unit);
}

ScopeDecision evaluate_scope(const ScopeRules& rules, bool default_global, uint32_t pid, std::string_view cgroup_path) {
    if (pid != 0) {
        auto process = rules.processes.find(pid);
        if (process != rules.processes.end())
            return {process->second.enabled, ScopeDecidedBy::process, std::to_string(pid)};
    }

    if (!cgroup_path.empty()) {
        // A monitor (conmon) cgroup belongs to no container's rule, and
        // neither does a cgroup a user made (trusted_for_host()).
        const CgroupContainer container = container_from_cgroup_path(cgroup_path);
        if (container.trusted_for_host()) {
            auto rule = rules.containers.find(container.id);
            if (rule != rules.containers.end())
                return {rule->second, ScopeDecidedBy::container, rule->first};
        }

        // The root cgroup is the root slice; then down the path while the
        // cgroups are slices or a user manager. The deepest rule wins.
        std::optional<ScopeDecision> unit_decision;
        if (auto root = rules.units.find("-.slice"); root != rules.units.end())
            unit_decision = ScopeDecision{root->second, ScopeDecidedBy::unit, root->first};
        std::string_view rest = cgroup_path;
        while (!rest.empty()) {
            while (!rest.empty() && rest.front() == '/')
                rest.remove_prefix(1);
            if (rest.empty())
                break;
            const std::string_view component = rest.substr(0, rest.find('/'));
            rest.remove_prefix(component.size());
            const std::string_view unit = unit_of_cgroup_name(component);
            if (unit.empty())
                break;
            if (auto rule = rules.units.find(std::string(unit)); rule != rules.units.end())
                unit_decision = ScopeDecision{rule->second, ScopeDecidedBy::unit, rule->first};
            if (!cgroup_holds_units(unit))
                break;
        }
        if (unit_decision)
            return *unit_decision;
    }

    return {rules.global.value_or(default_global), ScopeDecidedBy::global, {}};
}

}  // namespace dnsvis
