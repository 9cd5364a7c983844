#include "scope_state.hpp"

#include <nlohmann/json.hpp>

namespace dnsvis {

using nlohmann::json;

std::string format_scope_state(const ScopeRules& rules) {
    // In the order a reader expects: version first.
    nlohmann::ordered_json document = nlohmann::ordered_json::object();
    document["version"] = scope_state_version;
    document["global"] = rules.global ? nlohmann::ordered_json(*rules.global) : nlohmann::ordered_json(nullptr);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& [name, enabled] : rules.units)
        list.push_back({{"kind", "unit"}, {"target", name}, {"enabled", enabled}});
    for (const auto& [id, enabled] : rules.containers)
        list.push_back({{"kind", "container"}, {"target", id}, {"enabled", enabled}});
    for (const auto& [pid, rule] : rules.processes)
        list.push_back({{"kind", "process"}, {"pid", pid}, {"start_time", rule.start_time}, {"enabled", rule.enabled}});
    document["rules"] = std::move(list);
    // Invalid UTF-8 cannot occur (names are validated ASCII), but the dump
    // must never throw.
    return document.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

namespace {

bool fail(std::string& error, std::string message) {
    error = std::move(message);
    return false;
}

// The rule's "target" string, or an error.
bool target_of(const json& rule, size_t index, std::string& target, std::string& error) {
    auto it = rule.find("target");
    if (it == rule.end() || !it->is_string())
        return fail(error, "rule " + std::to_string(index) + " has no \"target\" string");
    target = it->get<std::string>();
    return true;
}

bool parse_rule(const json& rule, size_t index, ScopeRules& rules, std::string& error) {
    const std::string where = "rule " + std::to_string(index);
    if (!rule.is_object())
        return fail(error, where + " is not an object");
    auto kind = rule.find("kind");
    if (kind == rule.end() || !kind->is_string())
        return fail(error, where + " has no \"kind\" string");
    auto enabled = rule.find("enabled");
    if (enabled == rule.end() || !enabled->is_boolean())
        return fail(error, where + " has no \"enabled\" boolean");
    const bool on = enabled->get<bool>();
    const std::string kind_name = kind->get<std::string>();

    if (kind_name == "unit") {
        std::string name;
        if (!target_of(rule, index, name, error))
            return false;
        if (std::string why = unit_rule_name_error(name); !why.empty())
            return fail(error, where + ": " + why);
        if (!rules.units.emplace(name, on).second)
            return fail(error, where + " repeats unit " + name);
        return true;
    }
    if (kind_name == "container") {
        std::string id;
        if (!target_of(rule, index, id, error))
            return false;
        if (std::string why = container_rule_id_error(id); !why.empty())
            return fail(error, where + ": " + why);
        // Rules are saved by full id; a name's '/' is for callers only.
        if (id.front() == '/')
            return fail(error, where + ": the container id begins with '/'");
        if (!rules.containers.emplace(id, on).second)
            return fail(error, where + " repeats container " + id);
        return true;
    }
    if (kind_name == "process") {
        auto pid = rule.find("pid");
        auto start = rule.find("start_time");
        if (pid == rule.end() || !pid->is_number_unsigned() || pid->get<uint64_t>() == 0 ||
            pid->get<uint64_t>() > UINT32_MAX)
            return fail(error, where + " has no \"pid\" between 1 and 4294967295");
        if (start == rule.end() || !start->is_number_unsigned())
            return fail(error, where + " has no \"start_time\" number");
        const uint32_t key = static_cast<uint32_t>(pid->get<uint64_t>());
        if (!rules.processes.emplace(key, ProcessRule{start->get<uint64_t>(), on}).second)
            return fail(error, where + " repeats pid " + std::to_string(key));
        return true;
    }
    return fail(error, where + " has an unknown kind \"" + kind_name + "\"");
}

}  // namespace

bool parse_scope_state(std::string_view text, ScopeRules& rules, std::string& error) {
    const json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded())
        return fail(error, "not valid JSON (cut short or damaged)");
    if (!document.is_object())
        return fail(error, "not a JSON object");
    auto version = document.find("version");
    if (version == document.end() || !version->is_number_integer())
        return fail(error, "no \"version\" number");
    if (version->get<int64_t>() != scope_state_version)
        return fail(error, "version " + version->dump() + " is not the supported version " +
                               std::to_string(scope_state_version));

    ScopeRules parsed;
    auto global = document.find("global");
    if (global == document.end() || !(global->is_boolean() || global->is_null()))
        return fail(error, "\"global\" is not true, false or null");
    if (global->is_boolean())
        parsed.global = global->get<bool>();

    auto list = document.find("rules");
    if (list == document.end() || !list->is_array())
        return fail(error, "\"rules\" is not a list");
    if (list->size() > max_scope_rules)
        return fail(error, "more than " + std::to_string(max_scope_rules) + " rules");
    for (size_t i = 0; i < list->size(); ++i)
        if (!parse_rule((*list)[i], i, parsed, error))
            return false;
    rules = std::move(parsed);
    return true;
}

}  // namespace dnsvis
