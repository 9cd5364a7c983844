#include "kernel_scope_manager.hpp"

#include <time.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "container_match.hpp"
#include "container_cgroup.hpp"
#include "log.hpp"
#include "monotonic_clock.hpp"
#include "process_stat.hpp"
#include "scope_cgroup_scan.hpp"
#include "scope_state_file.hpp"
#include "text_file.hpp"

namespace dnsvis {

namespace {

uint8_t verdict_of(bool enabled) {
    return enabled ? DNSVIS_SCOPE_ENABLED : DNSVIS_SCOPE_DISABLED;
}

ScopeResult refuse(ScopeError error, std::string message) {
    return ScopeResult{error, std::move(message)};
}

const char* on_off(bool enabled) {
    return enabled ? "on" : "off";
}

}  // namespace

std::optional<uint64_t> process_start_time(uint32_t pid) {
    return start_time_from_proc_stat(read_text_file("/proc/" + std::to_string(pid) + "/stat"));
}

KernelScopeManager::KernelScopeManager(sd_event* event, BpfCapture& capture, ContainerRegistry* containers,
                                       ScopeManagerSettings settings)
    : event_(event), capture_(capture), containers_(containers), settings_(std::move(settings)) {
    restore();
    // Names are asked for now, so that a container can be named in a rule
    // without waiting for its runtime's answer.
    if (containers_)
        ask_container_names(scan_container_cgroups(settings_.cgroup_root));
}

KernelScopeManager::~KernelScopeManager() {
    sd_event_source_disable_unref(timer_);
}

void KernelScopeManager::restore() {
    ScopeRules loaded;
    const ScopeStateLoadResult result = load_scope_state_file(settings_.state_file, loaded);
    const std::string fallback =
        std::string("global visibility ") + on_off(settings_.default_global) + " ([Visibility] Global=) and no rules";
    switch (result.status) {
        case ScopeStateLoad::absent:
            break;
        case ScopeStateLoad::moved_aside:
            log_warning("Cannot use the scope state file %s (%s); moved it to %s, starting with %s",
                        settings_.state_file.c_str(), result.reason.c_str(), result.aside.c_str(), fallback.c_str());
            break;
        case ScopeStateLoad::unreadable:
            unsaved_because_ = "the state file " + settings_.state_file +
                               " could not be read or moved aside at start (" + result.reason + ")";
            log_error("Cannot read the scope state file %s (%s); starting with %s, and changes will not be saved",
                      settings_.state_file.c_str(), result.reason.c_str(), fallback.c_str());
            break;
        case ScopeStateLoad::loaded:
            rules_ = std::move(loaded);
            break;
    }
    const bool dropped = drop_exited_processes();
    capture_.set_global(global());
    if (std::string error = apply_to_kernel(rules_); !error.empty())
        log_error("Cannot write the scope maps: %s; the rules apply from the next change", error.c_str());
    if (result.status == ScopeStateLoad::loaded)
        log_info("Restored %zu scope rule(s) from %s; global visibility %s", rules_.rule_count(),
                 settings_.state_file.c_str(), on_off(global()));
    std::string error;
    if (dropped && !save(error))
        log_warning("Cannot save the scope state, ignoring: %s", error.c_str());
    update_timer();
}

bool KernelScopeManager::global() const {
    return rules_.global.value_or(settings_.default_global);
}

std::vector<ScopeEntry> KernelScopeManager::list() const {
    std::vector<ScopeEntry> entries;
    entries.reserve(1 + rules_.rule_count());
    entries.push_back({ScopeKind::global, "", global()});
    for (const auto& [name, enabled] : rules_.units)
        entries.push_back({ScopeKind::unit, name, enabled});
    for (const auto& [id, enabled] : rules_.containers)
        entries.push_back({ScopeKind::container, id, enabled});
    for (const auto& [pid, rule] : rules_.processes)
        entries.push_back({ScopeKind::process, std::to_string(pid), rule.enabled});
    return entries;
}

ScopeResult KernelScopeManager::set_global(bool enabled) {
    ScopeRules next = rules_;
    next.global = enabled;
    return commit(std::move(next), std::string("global ") + on_off(enabled));
}

ScopeResult KernelScopeManager::set_unit(std::string_view unit, bool enabled) {
    if (std::string why = unit_rule_name_error(unit); !why.empty())
        return refuse(ScopeError::invalid_argument, why);
    ScopeRules next = rules_;
    next.units[std::string(unit)] = enabled;
    return commit(std::move(next), "unit " + std::string(unit) + " " + on_off(enabled));
}

void KernelScopeManager::set_container_async(std::string_view id_or_name, bool enabled,
                                             std::function<void(ScopeResult)> done) {
    std::string id;
    std::vector<CgroupContainer> unnamed;
    ScopeResult resolved = resolve_container(id_or_name, id, &unnamed);
    if (resolved) {
        done(set_container_id(id, enabled));
        return;
    }
    if (unnamed.empty()) {
        done(std::move(resolved));
        return;
    }

    // Ask for the missing names, and look once more when every answer is in.
    struct Wait {
        size_t outstanding = 0;
        bool armed = false;  // every request made
        std::function<void()> finish;
    };
    auto wait = std::make_shared<Wait>();
    wait->finish = [this, alive = std::weak_ptr<bool>(alive_), query = std::string(id_or_name), enabled,
                    done = std::move(done)] {
        if (alive.expired())
            return;  // shutting down: there is no one to answer any more
        std::string found;
        ScopeResult again = resolve_container(query, found);
        done(again ? set_container_id(found, enabled) : again);
    };
    const uint64_t now = monotonic_ns();
    for (const CgroupContainer& container : unnamed) {
        auto answered = std::make_shared<bool>(false);
        ++wait->outstanding;
        containers_->request(container, now, [wait, answered] {
            if (*answered)
                return;
            *answered = true;
            if (--wait->outstanding == 0 && wait->armed)
                wait->finish();
        });
        // Not asked (known to be unknown, or no socket): no answer will come.
        if (!*answered && !containers_->pending(container)) {
            *answered = true;
            --wait->outstanding;
        }
    }
    wait->armed = true;
    if (wait->outstanding == 0)
        wait->finish();
}

ScopeResult KernelScopeManager::set_container_id(const std::string& id, bool enabled) {
    ScopeRules next = rules_;
    next.containers[id] = enabled;
    return commit(std::move(next), "container " + id + " " + on_off(enabled));
}

ScopeResult KernelScopeManager::set_process(uint32_t pid, bool enabled) {
    if (std::string why = process_rule_pid_error(pid); !why.empty())
        return refuse(ScopeError::invalid_argument, why);
    // A thread's id names its process (the kernel matches thread groups).
    const std::optional<uint32_t> tgid =
        tgid_from_proc_status(read_text_file("/proc/" + std::to_string(pid) + "/status"));
    const std::optional<uint64_t> start = tgid ? process_start_time(*tgid) : std::nullopt;
    if (!start)
        return refuse(ScopeError::no_such_process, "no process has pid " + std::to_string(pid));
    pid = *tgid;
    ScopeRules next = rules_;
    next.processes[pid] = ProcessRule{*start, enabled};
    return commit(std::move(next), "process " + std::to_string(pid) + " " + on_off(enabled));
}

ScopeResult KernelScopeManager::reset() {
    return commit(ScopeRules{}, "every rule dropped, global back to its default");
}

ScopeResult KernelScopeManager::commit(ScopeRules next, const std::string& change) {
    if (next.rule_count() > max_scope_rules && next.rule_count() > rules_.rule_count())
        return refuse(ScopeError::limits_exceeded, "there are " + std::to_string(max_scope_rules) +
                                                       " rules already; changing one of them still works, "
                                                       "ResetScopes drops them all");
    const bool global_before = global();
    const bool global_after = next.global.value_or(settings_.default_global);
    if (global_after != global_before)
        capture_.set_global(global_after);
    if (std::string error = apply_to_kernel(next); !error.empty()) {
        // Back to what was there, as far as the kernel lets us.
        capture_.set_global(global_before);
        apply_to_kernel(rules_);
        return refuse(ScopeError::failed, "cannot write the scope maps: " + error);
    }
    rules_ = std::move(next);
    update_timer();
    // Who changed what is worth knowing afterwards.
    log_info("Visibility scope changed: %s", change.c_str());
    std::string error;
    if (!save(error)) {
        log_warning("Cannot save the scope state; the change is in effect, not saved: %s", error.c_str());
        return refuse(ScopeError::failed, "the change is in effect but cannot be saved: " + error);
    }
    return {};
}

std::string KernelScopeManager::apply_to_kernel(const ScopeRules& rules, bool* truncated_scan) {
    KernelScopes scopes;
    bool truncated = false;
    if (!rules.units.empty()) {
        std::set<std::string> names;
        for (const auto& [name, enabled] : rules.units)
            names.insert(name);
        for (const UnitCgroup& found : scan_unit_cgroups(settings_.cgroup_root, names, &truncated))
            scopes.cgroups[found.cgroup_id].unit = verdict_of(rules.units.at(found.unit));
    }
    if (!rules.containers.empty()) {
        for (const FoundContainer& found : scan_container_cgroups(settings_.cgroup_root, &truncated)) {
            auto rule = rules.containers.find(found.container.id);
            if (rule != rules.containers.end())
                scopes.cgroups[found.cgroup_id].container = verdict_of(rule->second);
        }
    }
    if (truncated_scan)
        *truncated_scan = truncated;
    if (scopes.cgroups.size() > DNSVIS_SCOPE_MAX_CGROUPS)
        return std::to_string(scopes.cgroups.size()) + " cgroups match the rules, more than the " +
               std::to_string(DNSVIS_SCOPE_MAX_CGROUPS) + " the kernel's scope map holds";
    for (const auto& [pid, rule] : rules.processes)
        scopes.processes[pid] = verdict_of(rule.enabled);
    if (!capture_.set_scopes(scopes))
        return std::strerror(errno);
    return {};
}

void KernelScopeManager::reapply(const char* why) {
    bool truncated = false;
    std::string error = apply_to_kernel(rules_, &truncated);
    // Said once when it starts and once when it ends: the rescan runs every
    // second. Only a scan that ran says anything of the tree.
    const bool scanned = !rules_.units.empty() || !rules_.containers.empty();
    if (scanned && truncated != scan_truncated_) {
        log_warning(truncated ? "The cgroup tree has more than %zu cgroups: rules reach only those scanned first"
                              : "The cgroup tree has fewer than %zu cgroups again: rules reach every cgroup",
                    max_scanned_cgroups);
        scan_truncated_ = truncated;
    }
    if (error != apply_error_) {
        if (!error.empty())
            log_warning("Cannot update the scope maps (%s), ignoring until it can: %s", why, error.c_str());
        else
            log_info("The scope maps are up to date again");
    }
    apply_error_ = std::move(error);
}

bool KernelScopeManager::save(std::string& error) {
    if (!unsaved_because_.empty()) {
        std::string still;
        switch (move_unused_state_file_aside(settings_.state_file, still)) {
            case UnusedStateFile::stuck:
                error = unsaved_because_ + "; " + still;
                return false;
            case UnusedStateFile::moved:
                log_warning("The scope state file %s can be moved now: moved it to %s.unreadable, and saving again",
                            settings_.state_file.c_str(), settings_.state_file.c_str());
                break;
            case UnusedStateFile::gone:
                log_info("The scope state file %s that could not be read is gone: saving again",
                         settings_.state_file.c_str());
                break;
        }
        unsaved_because_.clear();
    }
    return save_scope_state_file(settings_.state_file, rules_, error);
}

ScopeResult KernelScopeManager::resolve_container(std::string_view query, std::string& id,
                                                  std::vector<CgroupContainer>* unnamed) {
    if (query.empty())
        return refuse(ScopeError::invalid_argument, "the container id or name is empty");
    if (std::string why = container_rule_id_error(query); !why.empty())
        return refuse(ScopeError::invalid_argument, why);

    // The containers in the cgroup tree, with the names their runtimes
    // gave, and those of existing rules (so that the rule of a stopped
    // container can still be changed).
    const std::vector<FoundContainer> found = scan_container_cgroups(settings_.cgroup_root);
    std::vector<KnownContainer> known;
    std::vector<CgroupContainer> nameless;
    const uint64_t now = monotonic_ns();
    for (const FoundContainer& container : found) {
        std::shared_ptr<const ContainerMetadata> metadata;
        if (containers_) {
            metadata = containers_->metadata(container.container, now);
            if (!metadata && containers_->can_look_up(container.container))
                nameless.push_back(container.container);
        }
        known.push_back({container.container.id, metadata ? metadata->name : std::string()});
    }
    for (const auto& [rule_id, enabled] : rules_.containers)
        known.push_back({rule_id, {}});

    const ContainerMatchResult result = match_container(query, known);
    switch (result.match) {
        case ContainerMatch::found:
            id = result.id;
            return {};
        case ContainerMatch::ambiguous:
            if (result.by_name)
                return refuse(ScopeError::ambiguous_container, std::to_string(result.matches) +
                                                                   " containers are named \"" + std::string(query) +
                                                                   "\"; give the id");
            return refuse(ScopeError::ambiguous_container, "the id prefix \"" + std::string(query) + "\" matches " +
                                                               std::to_string(result.matches) + " containers");
        case ContainerMatch::none:
            break;
    }
    if (unnamed)
        *unnamed = std::move(nameless);
    return refuse(ScopeError::no_such_container, "no container has the id or name \"" + std::string(query) + "\"");
}

void KernelScopeManager::ask_container_names(const std::vector<FoundContainer>& found) {
    if (!containers_)
        return;
    const uint64_t now = monotonic_ns();
    for (const FoundContainer& container : found)
        containers_->request(container.container, now, nullptr);
}

bool KernelScopeManager::drop_exited_processes() {
    bool dropped = false;
    for (auto it = rules_.processes.begin(); it != rules_.processes.end();) {
        const std::optional<uint64_t> start = process_start_time(it->first);
        if (start && *start == it->second.start_time) {
            ++it;
            continue;
        }
        log_info("Process %u no longer runs; its scope rule is dropped", it->first);
        it = rules_.processes.erase(it);
        dropped = true;
    }
    return dropped;
}

void KernelScopeManager::cgroup_created(const std::string& path) {
    if (rules_.units.empty() && rules_.containers.empty())
        return;
    // Named as the rescan names it: the directory's unit, unescaped.
    const std::string_view directory = std::string_view(path).substr(path.rfind('/') + 1);
    bool named = rules_.units.count(std::string(unit_of_cgroup_name(directory))) > 0;
    if (!named && !rules_.containers.empty()) {
        const CgroupContainer container = container_from_cgroup_path(path);
        named = container.trusted_for_host() && rules_.containers.count(container.id) > 0;
    }
    if (named)
        reapply("a cgroup a rule names appeared");
}

void KernelScopeManager::update_timer() {
    const bool needed = rules_.rule_count() > 0;
    if (!timer_) {
        if (!needed)
            return;
        const int r =
            sd_event_add_time_relative(event_, &timer_, CLOCK_MONOTONIC, resolve_interval_usec, 0, on_timer, this);
        if (r < 0) {
            log_warning("Cannot add the scope timer, ignoring: %s; new cgroups of units are not followed",
                        std::strerror(-r));
            return;
        }
    }
    if (!needed) {
        sd_event_source_set_enabled(timer_, SD_EVENT_OFF);
        return;
    }
    if (sd_event_source_get_enabled(timer_, nullptr) == 0) {
        sd_event_source_set_time_relative(timer_, resolve_interval_usec);
        sd_event_source_set_enabled(timer_, SD_EVENT_ONESHOT);
    }
}

int KernelScopeManager::on_timer(sd_event_source*, uint64_t, void* userdata) {
    auto* self = static_cast<KernelScopeManager*>(userdata);
    std::string error;
    if (self->drop_exited_processes() && !self->save(error))
        log_warning("Cannot save the scope state, ignoring: %s", error.c_str());
    // Units that started or restarted, containers that came or went.
    self->reapply("the once-a-second rescan");
    self->update_timer();
    return 0;
}

}  // namespace dnsvis
