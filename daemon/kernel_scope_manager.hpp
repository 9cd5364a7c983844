// The ScopeManager of dnsvisd: keeps the rules, resolves them to cgroup ids
// and tgids for the kernel's scope maps, and stores them in the state file.
//
// Units and containers are kept by name and re-resolved once a second while
// such rules exist, so a unit that starts (or restarts, with a new cgroup)
// after its rule was made is covered within a second; cgroups created below
// a covered one are covered at once, as the kernel matches every ancestor.
// Process rules are dropped when their process exits, so a reused pid does
// not inherit one.
#pragma once

#include <systemd/sd-event.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "bpf_capture.hpp"
#include "container_registry.hpp"
#include "scope_cgroup_scan.hpp"
#include "scope_manager.hpp"
#include "scope_rules.hpp"

namespace dnsvis {

struct ScopeManagerSettings {
    std::string cgroup_root;     // where cgroup2 is mounted
    std::string state_file;      // <state directory>/scopes.json
    bool default_global = true;  // [Visibility] Global=
};

class KernelScopeManager final : public ScopeManager {
public:
    static constexpr uint64_t resolve_interval_usec = 1'000'000;

    // Restores the state file and writes the kernel's maps. `containers`
    // may be null (no container names then).
    KernelScopeManager(sd_event* event, BpfCapture& capture, ContainerRegistry* containers,
                       ScopeManagerSettings settings);
    ~KernelScopeManager() override;
    KernelScopeManager(const KernelScopeManager&) = delete;
    KernelScopeManager& operator=(const KernelScopeManager&) = delete;

    ScopeResult set_global(bool enabled) override;
    ScopeResult set_unit(std::string_view unit, bool enabled) override;
    void set_container_async(std::string_view id_or_name, bool enabled, std::function<void(ScopeResult)> done) override;
    ScopeResult set_process(uint32_t pid, bool enabled) override;
    ScopeResult reset() override;

    bool global() const override;

    // A cgroup appeared (the cgroup tree is followed with inotify). When a
    // unit or container rule names it, the kernel maps are updated at once
    // rather than at the next once-a-second rescan, so a unit started after
    // its rule is visible from its first query.
    void cgroup_created(const std::string& path);
    std::vector<ScopeEntry> list() const override;

private:
    void restore();
    // Makes `next` the rules: kernel first, then the state file. On a
    // kernel failure the old rules stay.
    ScopeResult commit(ScopeRules next, const std::string& change);
    // Writes what `rules` say of the cgroups and processes there are now;
    // returns what went wrong, or "". `truncated_scan` (if given) tells
    // whether a scan stopped at max_scanned_cgroups.
    std::string apply_to_kernel(const ScopeRules& rules, bool* truncated_scan = nullptr);
    // The same for the rules in force, from the rescans: a failure is
    // logged when it starts or changes, not every second.
    void reapply(const char* why);
    bool save(std::string& error);
    // Full id of the container `query` names, or an error. When nothing
    // matched but some containers' names are not known yet, they are listed
    // in `unnamed` (if given).
    ScopeResult resolve_container(std::string_view query, std::string& id,
                                  std::vector<CgroupContainer>* unnamed = nullptr);
    ScopeResult set_container_id(const std::string& id, bool enabled);
    void ask_container_names(const std::vector<FoundContainer>& found);
    bool drop_exited_processes();
    void update_timer();
    static int on_timer(sd_event_source* source, uint64_t usec, void* userdata);

    sd_event* event_;
    BpfCapture& capture_;
    ContainerRegistry* containers_;
    ScopeManagerSettings settings_;
    ScopeRules rules_;
    std::string apply_error_;     // the last rescan's failure, "" when it worked
    // Set when the state file could be neither read nor moved aside at start:
    // saving would replace rules the operator may still want, so changes
    // are not saved while it stays so. Each save asks again, and once the
    // file can be moved aside (or is gone) saving resumes.
    std::string unsaved_because_;
    bool scan_truncated_ = false;  // the last rescan stopped at max_scanned_cgroups
    sd_event_source* timer_ = nullptr;
    // Callbacks waiting for a runtime check this before touching us.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The start time of process `pid` (see ProcessRule), nullopt when there is
// no such process.
std::optional<uint64_t> process_start_time(uint32_t pid);

}  // namespace dnsvis
